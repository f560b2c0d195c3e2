using System.Text.Json.Nodes;

namespace StreamingEvents.Tests.Abstractions;

public sealed class JsonPatchDiffTests
{
    [Fact]
    public void A_grown_string_is_one_append()
    {
        var operations = JsonPatch.Diff(JsonNode.Parse("""{"text":"Hel"}"""), JsonNode.Parse("""{"text":"Hello"}"""));

        Assert.Equal("""[{"op":"append","path":"/text","value":"lo"}]""", operations.ToJsonString());
    }

    [Fact]
    public void A_grown_array_is_adds_at_its_end()
    {
        var operations = JsonPatch.Diff(JsonNode.Parse("""{"tokens":["a"]}"""), JsonNode.Parse("""{"tokens":["a","b","c"]}"""));

        Assert.Equal("""[{"op":"add","path":"/tokens/-","value":"b"},{"op":"add","path":"/tokens/-","value":"c"}]""", operations.ToJsonString());
    }

    [Fact]
    public void Members_are_added_removed_and_replaced_with_escaped_paths()
    {
        var operations = JsonPatch.Diff(JsonNode.Parse("""{"a/b":1,"c~d":2,"gone":true}"""), JsonNode.Parse("""{"a/b":3,"c~d":2,"new":[1]}"""));

        Assert.Equal(
            """[{"op":"remove","path":"/gone","value":null},{"op":"replace","path":"/a~1b","value":3},{"op":"add","path":"/new","value":[1]}]""",
            operations.ToJsonString());
    }

    [Fact]
    public void Equal_documents_need_no_operation_and_a_changed_root_kind_is_replaced_whole()
    {
        Assert.Empty(JsonPatch.Diff(JsonNode.Parse("""{"x":[1,{"y":null}]}"""), JsonNode.Parse("""{"x":[1,{"y":null}]}""")));
        Assert.Equal("""[{"op":"replace","path":"","value":[1]}]""", JsonPatch.Diff(JsonNode.Parse("{}"), JsonNode.Parse("[1]")).ToJsonString());
        Assert.Equal("""[{"op":"replace","path":"","value":"x"}]""", JsonPatch.Diff(JsonNode.Parse("\"\""), JsonNode.Parse("\"x\"")).ToJsonString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Applying_the_diff_of_two_random_documents_to_the_first_gives_the_second(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 300; round++)
        {
            var before = RandomNode(random, depth: 0);
            var after = Mutate(random, before?.DeepClone(), depth: 0);

            var operations = JsonPatch.Diff(before, after);
            var patched = JsonPatch.Apply(before?.DeepClone(), JsonNode.Parse(operations.ToJsonString())!.AsArray());

            Assert.True(JsonNode.DeepEquals(after, patched), $"seed {seed} round {round}: {before?.ToJsonString()} -> {after?.ToJsonString()} via {operations.ToJsonString()} gave {patched?.ToJsonString()}");
        }
    }

    private static JsonNode? RandomNode(Random random, int depth) => random.Next(depth > 2 ? 4 : 6) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(100)),
        2 => JsonValue.Create(new string('a', random.Next(4)) + (random.Next(2) == 0 ? "/~" : "")),
        3 => JsonValue.Create(random.Next(2) == 0),
        4 => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => RandomNode(random, depth + 1))]),
        _ => new JsonObject(Enumerable.Range(0, random.Next(4)).Select(i => KeyValuePair.Create("k" + i + (i == 2 ? "/~" : ""), RandomNode(random, depth + 1)))),
    };

    private static JsonNode? Mutate(Random random, JsonNode? node, int depth)
    {
        switch (node)
        {
            case JsonObject obj when random.Next(3) > 0:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    switch (random.Next(4))
                    {
                        case 0:
                            obj.Remove(key);
                            break;
                        case 1:
                            obj[key] = Mutate(random, obj[key]?.DeepClone(), depth + 1);
                            break;
                    }
                }

                if (random.Next(2) == 0)
                {
                    obj["added" + random.Next(3)] = RandomNode(random, depth + 1);
                }

                return obj;
            case JsonArray array when random.Next(3) > 0:
                if (random.Next(2) == 0)
                {
                    array.Add(RandomNode(random, depth + 1));
                }
                else if (array.Count > 0)
                {
                    var index = random.Next(array.Count);
                    array[index] = Mutate(random, array[index]?.DeepClone(), depth + 1);
                }

                return array;
            case JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String && random.Next(2) == 0:
                return JsonValue.Create(value.GetValue<string>() + "more");
            default:
                return random.Next(3) == 0 ? node : RandomNode(random, depth);
        }
    }
}
