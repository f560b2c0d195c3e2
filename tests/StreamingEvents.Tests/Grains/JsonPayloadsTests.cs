using System.Text;
using System.Text.Json;

namespace StreamingEvents.Tests.Grains;

public sealed class JsonPayloadsTests
{
    [Theory]
    [InlineData("{}")]
    [InlineData("""{"a":[1,2,{"b":null}],"c":"é🚀"}""")]
    [InlineData("[]")]
    [InlineData("\"just a string\"")]
    [InlineData("42")]
    [InlineData("-1.5e10")]
    [InlineData("true")]
    [InlineData("false")]
    [InlineData("null")]
    [InlineData("  \n {\"padded\": true} \t\r\n ")]
    public void One_well_formed_json_value_is_accepted(string json) =>
        JsonPayloads.Validate(Encoding.UTF8.GetBytes(json), "state");

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("   ", "not valid JSON")]
    [InlineData("{", "not valid JSON")]
    [InlineData("{\"a\":}", "not valid JSON")]
    [InlineData("{'a':1}", "not valid JSON")]
    [InlineData("{} x", "not valid JSON")]
    [InlineData("{}}", "not valid JSON")]
    [InlineData("1 2", "")]
    [InlineData("{}{}", "")]
    [InlineData("[1] [2]", "")]
    [InlineData("// comment\n{}", "not valid JSON")]
    [InlineData("{\"a\":1,}", "not valid JSON")]
    [InlineData("NaN", "not valid JSON")]
    public void Anything_but_exactly_one_json_value_is_refused(string json, string problem)
    {
        var error = Assert.Throws<InvalidPayloadException>(() => JsonPayloads.Validate(Encoding.UTF8.GetBytes(json), "state"));

        Assert.StartsWith("The state ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Equal(Codes.InvalidPayload, error.ErrorCode);
    }

    [Fact]
    public void Invalid_utf8_is_refused_before_parsing()
    {
        byte[] json = [(byte)'"', 0xC3, 0x28, (byte)'"'];

        var error = Assert.Throws<InvalidPayloadException>(() => JsonPayloads.Validate(json, "state"));

        Assert.Contains("not valid UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_encoded_lone_surrogate_is_invalid_utf8()
    {
        byte[] json = [(byte)'"', 0xED, 0xA0, 0x80, (byte)'"'];

        Assert.Throws<InvalidPayloadException>(() => JsonPayloads.Validate(json, "state"));
    }

    [Fact]
    public void Nesting_up_to_64_levels_is_accepted_and_deeper_is_refused()
    {
        JsonPayloads.Validate(Nested(StreamingLimits.MaxJsonDepth), "state");

        var error = Assert.Throws<InvalidPayloadException>(() => JsonPayloads.Validate(Nested(StreamingLimits.MaxJsonDepth + 1), "state"));
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.IsType<JsonException>(error.InnerException, exactMatch: false);
    }

    [Fact]
    public void Deep_nesting_inside_objects_is_refused_too()
    {
        var json = string.Concat(Enumerable.Repeat("{\"a\":", 70)) + "1" + new string('}', 70);

        Assert.Throws<InvalidPayloadException>(() => JsonPayloads.Validate(Encoding.UTF8.GetBytes(json), "state"));
    }

    [Theory]
    [InlineData("[]", "array")]
    [InlineData("\"s\"", "string")]
    [InlineData("1", "number")]
    [InlineData("true", "true")]
    [InlineData("null", "null")]
    public void A_required_object_refuses_other_kinds_naming_both(string json, string kind)
    {
        var error = Assert.Throws<InvalidPayloadException>(() => JsonPayloads.Validate(Encoding.UTF8.GetBytes(json), "metadata", JsonValueKind.Object));

        Assert.Equal($"The metadata must be a JSON object, not {kind}.", error.Message);
    }

    [Fact]
    public void A_required_kind_is_accepted_when_it_matches()
    {
        JsonPayloads.Validate("""{"k":"v"}"""u8, "metadata", JsonValueKind.Object);
        JsonPayloads.Validate("""[{"op":"add","path":"","value":1}]"""u8, "patch", JsonValueKind.Array);
    }

    [Fact]
    public void A_required_object_with_trailing_garbage_is_still_refused() =>
        Assert.Throws<InvalidPayloadException>(() => JsonPayloads.Validate("""{"k":"v"} {"#":1}"""u8, "metadata", JsonValueKind.Object));

    private static byte[] Nested(int depth) => Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth));
}
