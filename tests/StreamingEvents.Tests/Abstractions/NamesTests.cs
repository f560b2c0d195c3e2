namespace StreamingEvents.Tests.Abstractions;

public sealed class NamesTests
{
    [Theory]
    [InlineData("token")]
    [InlineData("search_result")]
    [InlineData("a")]
    [InlineData("v1.2-beta_3")]
    [InlineData("...")]
    [InlineData("0")]
    public void Lowercase_letters_digits_underscore_dash_and_dot_make_a_valid_stream_name(string name)
    {
        Assert.True(Names.IsValidStreamName(name));
        Assert.Equal(name, Names.ValidateStreamName(name));
    }

    [Fact]
    public void A_stream_name_of_exactly_128_characters_is_valid_and_129_is_not()
    {
        Assert.True(Names.IsValidStreamName(new string('a', 128)));
        Assert.False(Names.IsValidStreamName(new string('a', 129)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Token")]
    [InlineData("to ken")]
    [InlineData("token/x")]
    [InlineData("token:x")]
    [InlineData("tökén")]
    [InlineData("token\n")]
    [InlineData("*")]
    public void Uppercase_spaces_separators_and_non_ascii_make_an_invalid_stream_name(string name)
    {
        Assert.False(Names.IsValidStreamName(name));
        var error = Assert.Throws<InvalidStreamNameException>(() => Names.ValidateStreamName(name));
        Assert.Equal(name, error.Name);
        Assert.Equal(Codes.InvalidStreamName, error.ErrorCode);
    }

    [Fact]
    public void A_null_stream_name_is_refused_and_shown_as_null()
    {
        Assert.False(Names.IsValidStreamName(null));
        var error = Assert.Throws<InvalidStreamNameException>(() => Names.ValidateStreamName(null));
        Assert.Contains("(null)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_stream_name_error_quotes_the_name_and_states_the_rule()
    {
        var error = Assert.Throws<InvalidStreamNameException>(() => Names.ValidateStreamName("Bad Name"));

        Assert.Contains("'Bad Name'", error.Message, StringComparison.Ordinal);
        Assert.Contains(Names.StreamNameRule, error.Message, StringComparison.Ordinal);
        Assert.Contains("1-128 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_very_long_refused_name_is_shortened_in_the_message()
    {
        var name = new string('X', 500);

        var error = Assert.Throws<InvalidStreamNameException>(() => Names.ValidateStreamName(name));

        Assert.Equal(name, error.Name);
        Assert.Contains("'" + new string('X', 80) + "…'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('X', 81), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("default")]
    [InlineData("tenant-1.prod_eu")]
    public void Namespaces_follow_the_lowercase_rule(string value)
    {
        Assert.True(Names.IsValidNamespace(value));
        Assert.Equal(value, Names.ValidateNamespace(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Default")]
    [InlineData("a/b")]
    [InlineData("with space")]
    public void Namespaces_outside_the_rule_are_refused_with_the_field_and_rule(string value)
    {
        Assert.False(Names.IsValidNamespace(value));
        var error = Assert.Throws<InvalidIdentifierException>(() => Names.ValidateNamespace(value));
        Assert.Equal("namespace", error.Field);
        Assert.Equal(Names.NamespaceRule, error.Rule);
        Assert.Equal(Codes.InvalidIdentifier, error.ErrorCode);
        Assert.Contains(Names.NamespaceRule, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_namespace_is_at_most_64_characters()
    {
        Assert.True(Names.IsValidNamespace(new string('n', 64)));
        Assert.False(Names.IsValidNamespace(new string('n', 65)));
    }

    [Theory]
    [InlineData("abc123")]
    [InlineData("Run_456")]
    [InlineData("tsk_0193a1b2c3d4")]
    [InlineData("user@example.com")]
    [InlineData("a:b=c+d~e.f-g")]
    public void Identifiers_accept_letters_digits_and_the_listed_punctuation(string value)
    {
        Assert.True(Names.IsValidIdentifier(value));
        Assert.Equal(value, Names.ValidateIdentifier(value, "task_id"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("a\"b")]
    [InlineData("a\\b")]
    [InlineData("é")]
    [InlineData("a\tb")]
    public void Identifiers_with_other_characters_are_refused_naming_the_field(string value)
    {
        Assert.False(Names.IsValidIdentifier(value));
        var error = Assert.Throws<InvalidIdentifierException>(() => Names.ValidateIdentifier(value, "workflow_run_id"));
        Assert.Equal("workflow_run_id", error.Field);
        Assert.Equal(Names.IdentifierRule, error.Rule);
        Assert.StartsWith("Invalid workflow_run_id ", error.Message, StringComparison.Ordinal);
        Assert.Contains(Names.IdentifierRule, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_identifier_is_at_most_256_characters()
    {
        Assert.True(Names.IsValidIdentifier(new string('i', 256)));
        Assert.False(Names.IsValidIdentifier(new string('i', 257)));
        Assert.False(Names.IsValidIdentifier(null));
    }

    [Theory]
    [InlineData("my-workflow")]
    [InlineData("Résumé des étapes")]
    [InlineData("Quote \" and back\\slash")]
    [InlineData("日本語のワークフロー")]
    [InlineData("rocket 🚀 launch")]
    [InlineData("🚀")]
    public void Workflow_names_allow_any_printable_text_including_emoji(string value)
    {
        Assert.True(Names.IsValidWorkflowName(value));
        Assert.Equal(value, Names.ValidateWorkflowName(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("line\nbreak")]
    [InlineData("tab\there")]
    [InlineData("nul\0")]
    [InlineData("bell\u0007")]
    [InlineData("c1\u0085control")]
    public void Workflow_names_with_control_characters_or_lone_surrogates_are_refused(string value)
    {
        Assert.False(Names.IsValidWorkflowName(value));
        var error = Assert.Throws<InvalidIdentifierException>(() => Names.ValidateWorkflowName(value));
        Assert.Equal("workflow_name", error.Field);
        Assert.Contains(Names.WorkflowNameRule, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Workflow_names_with_a_lone_or_swapped_surrogate_are_refused()
    {
        // Built at run time: attribute arguments are stored as UTF-8, which would turn a lone surrogate into U+FFFD.
        const char High = '\uD83D';
        const char Low = '\uDE80';
        string[] broken = [$"lone high {High}", $"{High}", $"{Low} lone low", $"swapped {Low}{High} pair", $"{High}{High}{Low}"];

        Assert.True(Names.IsValidWorkflowName($"whole pair {High}{Low}"));
        Assert.All(broken, name =>
        {
            Assert.False(Names.IsValidWorkflowName(name));
            Assert.Equal("workflow_name", Assert.Throws<InvalidIdentifierException>(() => Names.ValidateWorkflowName(name)).Field);
        });
    }

    [Fact]
    public void A_workflow_name_is_at_most_256_characters()
    {
        Assert.True(Names.IsValidWorkflowName(new string('w', 256)));
        Assert.False(Names.IsValidWorkflowName(new string('w', 257)));
        Assert.False(Names.IsValidWorkflowName(null));
    }
}
