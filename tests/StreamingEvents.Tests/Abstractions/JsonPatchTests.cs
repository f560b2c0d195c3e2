using System.Text;
using System.Text.Json.Nodes;

namespace StreamingEvents.Tests.Abstractions;

public sealed class JsonPatchTests
{
    [Theory]
    [InlineData("""{"a":1}""", """[{"op":"add","path":"/b","value":2}]""", """{"a":1,"b":2}""")]
    [InlineData("""{"a":1}""", """[{"op":"add","path":"/a","value":{"x":[1]}}]""", """{"a":{"x":[1]}}""")]
    [InlineData("""{"a":1}""", """[{"op":"replace","path":"/a","value":"one"}]""", """{"a":"one"}""")]
    [InlineData("""{"a":1,"b":2}""", """[{"op":"remove","path":"/a"}]""", """{"b":2}""")]
    [InlineData("""{"text":"Hel"}""", """[{"op":"append","path":"/text","value":"lo"}]""", """{"text":"Hello"}""")]
    [InlineData("""{"a":{"b":{"c":"x"}}}""", """[{"op":"append","path":"/a/b/c","value":"y"}]""", """{"a":{"b":{"c":"xy"}}}""")]
    [InlineData("""{"a":null}""", """[{"op":"replace","path":"/a","value":null}]""", """{"a":null}""")]
    public void Operations_on_objects_change_the_member_at_the_path(string document, string operations, string expected) =>
        AssertJsonEqual(expected, Apply(document, operations));

    [Theory]
    [InlineData("""{"xs":[1,2]}""", """[{"op":"add","path":"/xs/-","value":3}]""", """{"xs":[1,2,3]}""")]
    [InlineData("""{"xs":[1,2]}""", """[{"op":"add","path":"/xs/0","value":0}]""", """{"xs":[0,1,2]}""")]
    [InlineData("""{"xs":[1,3]}""", """[{"op":"add","path":"/xs/1","value":2}]""", """{"xs":[1,2,3]}""")]
    [InlineData("""{"xs":[1,2]}""", """[{"op":"add","path":"/xs/2","value":3}]""", """{"xs":[1,2,3]}""")]
    [InlineData("""{"xs":[1,2,3]}""", """[{"op":"replace","path":"/xs/1","value":"two"}]""", """{"xs":[1,"two",3]}""")]
    [InlineData("""{"xs":[1,2,3]}""", """[{"op":"remove","path":"/xs/0"}]""", """{"xs":[2,3]}""")]
    [InlineData("""{"xs":["a","b"]}""", """[{"op":"append","path":"/xs/1","value":"c"}]""", """{"xs":["a","bc"]}""")]
    [InlineData("""{"xs":[{"t":"a"}]}""", """[{"op":"append","path":"/xs/0/t","value":"b"}]""", """{"xs":[{"t":"ab"}]}""")]
    [InlineData("""[]""", """[{"op":"add","path":"/-","value":{"k":1}}]""", """[{"k":1}]""")]
    public void Operations_on_arrays_use_indexes_and_dash_appends(string document, string operations, string expected) =>
        AssertJsonEqual(expected, Apply(document, operations));

    [Theory]
    [InlineData("""{"a":1}""", """[{"op":"replace","path":"","value":[1,2]}]""", """[1,2]""")]
    [InlineData("""{"a":1}""", """[{"op":"add","path":"","value":{"b":2}}]""", """{"b":2}""")]
    [InlineData("""{"a":1}""", """[{"op":"remove","path":""}]""", "null")]
    [InlineData("\"Hel\"", """[{"op":"append","path":"","value":"lo"}]""", "\"Hello\"")]
    public void The_empty_path_is_the_whole_document(string document, string operations, string expected) =>
        AssertJsonEqual(expected, Apply(document, operations));

    [Theory]
    [InlineData("/a~1b", """{"a/b":"slash"}""")]
    [InlineData("/a~0b", """{"a~b":"tilde"}""")]
    [InlineData("/~01", """{"~1":"tilde-one"}""")]
    [InlineData("/~10", """{"/0":"slash-zero"}""")]
    [InlineData("/", """{"":"empty key"}""")]
    public void Tilde_escapes_in_the_path_are_decoded_once_in_rfc_6901_order(string path, string document)
    {
        var member = JsonNode.Parse(document)!.AsObject().Single().Key;
        var operations = new JsonArray(new JsonObject { ["op"] = "replace", ["path"] = path, ["value"] = "changed" });

        var result = JsonPatch.Apply(JsonNode.Parse(document), operations);

        Assert.Equal("changed", result![member]!.GetValue<string>());
        Assert.Single(result.AsObject());
    }

    [Fact]
    public void Operations_apply_in_order_so_later_ones_see_earlier_ones()
    {
        var result = Apply(
            """{"tokens":[]}""",
            """
            [
              {"op":"add","path":"/text","value":""},
              {"op":"append","path":"/text","value":"Hel"},
              {"op":"add","path":"/tokens/-","value":"Hel"},
              {"op":"append","path":"/text","value":"lo"},
              {"op":"add","path":"/tokens/-","value":"lo"},
              {"op":"remove","path":"/tokens/0"}
            ]
            """);

        AssertJsonEqual("""{"tokens":["lo"],"text":"Hello"}""", result);
    }

    [Fact]
    public void Values_are_copied_so_the_operations_can_be_applied_again()
    {
        var operations = JsonNode.Parse("""[{"op":"add","path":"/x","value":{"deep":[1]}}]""")!.AsArray();
        var first = JsonPatch.Apply(new JsonObject(), operations);
        var second = JsonPatch.Apply(new JsonObject(), operations);

        first!["x"]!["deep"]!.AsArray().Add(2);

        AssertJsonEqual("""{"x":{"deep":[1]}}""", second!.ToJsonString());
        AssertJsonEqual("""[{"op":"add","path":"/x","value":{"deep":[1]}}]""", operations.ToJsonString());
    }

    [Theory]
    [InlineData("""{"a":1}""", """[{"op":"replace","path":"/missing","value":1}]""", 0, "does not exist")]
    [InlineData("""{"a":1}""", """[{"op":"remove","path":"/missing"}]""", 0, "does not exist")]
    [InlineData("""{"a":1}""", """[{"op":"append","path":"/missing","value":"x"}]""", 0, "does not exist")]
    [InlineData("""{"a":1}""", """[{"op":"add","path":"/x/y","value":1}]""", 0, "does not exist")]
    [InlineData("""{"a":1}""", """[{"op":"add","path":"/b","value":1},{"op":"add","path":"/c/d","value":1}]""", 1, "does not exist")]
    [InlineData("""{"a":1}""", """[{"op":"append","path":"/a","value":"x"}]""", 0, "needs a string at '/a'")]
    [InlineData("""{"a":[]}""", """[{"op":"append","path":"/a","value":"x"}]""", 0, "needs a string at '/a'")]
    [InlineData("""{"a":"s"}""", """[{"op":"append","path":"/a","value":1}]""", 0, "needs a string 'value'")]
    [InlineData("""{"a":"s"}""", """[{"op":"append","path":"/a","value":null}]""", 0, "needs a string 'value'")]
    [InlineData("""{"a":1}""", """[{"op":"add","path":"/a"}]""", 0, "needs a 'value'")]
    [InlineData("""{"a":1}""", """[{"op":"move","path":"/a","value":1}]""", 0, "'move'")]
    [InlineData("""{"a":1}""", """[{"op":"ADD","path":"/a","value":1}]""", 0, "'ADD'")]
    [InlineData("""{"a":1}""", """[{"path":"/a","value":1}]""", 0, "op missing")]
    [InlineData("""{"a":1}""", """[{"op":"add","value":1}]""", 0, "JSON pointer")]
    [InlineData("""{"a":1}""", """[{"op":"add","path":"a","value":1}]""", 0, "JSON pointer")]
    [InlineData("""{"a":1}""", """[{"op":"add","path":3,"value":1}]""", 0, "JSON pointer")]
    [InlineData("""{"a":1}""", """[{"op":"add","path":"/b","value":1},"add"]""", 1, "is not a JSON object")]
    [InlineData("""{"a":"s"}""", """[{"op":"add","path":"/a/b","value":1}]""", 0, "not an object or array")]
    [InlineData("""{"xs":[1]}""", """[{"op":"add","path":"/xs/5","value":1}]""", 0, "out of range")]
    [InlineData("""{"xs":[1]}""", """[{"op":"replace","path":"/xs/1","value":1}]""", 0, "out of range")]
    [InlineData("""{"xs":[1]}""", """[{"op":"remove","path":"/xs/-"}]""", 0, "is not an array index")]
    [InlineData("""{"xs":[1]}""", """[{"op":"replace","path":"/xs/x","value":1}]""", 0, "is not an array index")]
    [InlineData("""{"xs":[1,2]}""", """[{"op":"replace","path":"/xs/01","value":1}]""", 0, "is not an array index")]
    [InlineData("""{"xs":[1,2]}""", """[{"op":"replace","path":"/xs/-1","value":1}]""", 0, "is not an array index")]
    public void An_operation_that_does_not_apply_is_refused_naming_its_index(string document, string operations, int index, string problem)
    {
        var error = Assert.Throws<InvalidPayloadException>(() => Apply(document, operations));

        Assert.StartsWith($"Patch operation {index} ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Equal(Codes.InvalidPayload, error.ErrorCode);
    }

    [Fact]
    public void The_error_for_an_unknown_op_lists_the_accepted_ones()
    {
        var error = Assert.Throws<InvalidPayloadException>(() => Apply("{}", """[{"op":"copy","path":"/a","value":1}]"""));

        Assert.Contains("add, replace, remove, append", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Operations_that_are_not_an_array_are_refused() =>
        Assert.Throws<InvalidPayloadException>(() => Apply("{}", """{"op":"add","path":"/a","value":1}"""));

    [Fact]
    public void Validate_accepts_well_formed_operations_without_a_document() =>
        JsonPatch.Validate("""
            [{"op":"add","path":"/a","value":1},{"op":"remove","path":"/nowhere/at/all"},{"op":"append","path":"","value":"t"},
             {"op":"replace","path":"/x~1y","value":null}]
            """u8);

    [Fact]
    public void Validate_accepts_an_empty_list_and_apply_leaves_the_document_unchanged()
    {
        JsonPatch.Validate("[]"u8);
        AssertJsonEqual("""{"a":1}""", Apply("""{"a":1}""", "[]"));
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("""[{"op":"add","path":"/a","value":1}""", "not valid JSON")]
    [InlineData("""{"op":"add"}""", "must be a JSON array")]
    [InlineData("\"add\"", "must be a JSON array")]
    [InlineData("""[{"op":"add","path":"/a","value":1},{"op":"append","path":"/a","value":2}]""", "Patch operation 1 ")]
    [InlineData("""[{"op":"test","path":"/a","value":1}]""", "Patch operation 0 ")]
    [InlineData("""[{"op":"replace","path":"a","value":1}]""", "Patch operation 0 ")]
    [InlineData("""[{"op":"add","path":"/a","value":1},{"op":"add","path":"/b","value":2},{"op":"add","path":"/c"}]""", "Patch operation 2 ")]
    [InlineData("""[1]""", "Patch operation 0 ")]
    public void Validate_refuses_malformed_patches(string operations, string problem)
    {
        var error = Assert.Throws<InvalidPayloadException>(() => JsonPatch.Validate(Encoding.UTF8.GetBytes(operations)));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_refuses_values_nested_deeper_than_the_limit()
    {
        var deep = new string('[', StreamingLimits.MaxJsonDepth + 2) + new string(']', StreamingLimits.MaxJsonDepth + 2);

        Assert.Throws<InvalidPayloadException>(() => JsonPatch.Validate(Encoding.UTF8.GetBytes($$"""[{"op":"add","path":"/a","value":{{deep}}}]""")));
    }

    private static string Apply(string document, string operations) =>
        Encoding.UTF8.GetString(JsonPatch.Apply(Encoding.UTF8.GetBytes(document), Encoding.UTF8.GetBytes(operations)));

    private static void AssertJsonEqual(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"Expected {expected} but got {actual}.");
}
