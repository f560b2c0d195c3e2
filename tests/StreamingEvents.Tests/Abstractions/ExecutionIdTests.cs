namespace StreamingEvents.Tests.Abstractions;

public sealed class ExecutionIdTests
{
    [Fact]
    public void The_key_is_namespace_slash_execution_id()
    {
        var execution = new ExecutionId("tenant-a", "exec_42");

        Assert.Equal("tenant-a/exec_42", execution.Key);
        Assert.Equal("tenant-a/exec_42", execution.ToString());
        Assert.Equal("tenant-a", execution.Namespace);
        Assert.Equal("exec_42", execution.WorkflowExecId);
    }

    [Theory]
    [InlineData("default", "abc123")]
    [InlineData("a.b-c_d", "user@example.com:run=1+2~3")]
    public void Parse_round_trips_the_key(string @namespace, string execId)
    {
        var execution = new ExecutionId(@namespace, execId);

        var parsed = ExecutionId.Parse(execution.Key);

        Assert.Equal(execution, parsed);
        Assert.Equal(execution.Key, parsed.Key);
    }

    [Theory]
    [InlineData("")]
    [InlineData("no-slash")]
    [InlineData("/exec")]
    public void Keys_without_a_namespace_part_are_refused_stating_the_form(string key)
    {
        var error = Assert.Throws<InvalidIdentifierException>(() => ExecutionId.Parse(key));

        Assert.Equal("execution", error.Field);
        Assert.Contains("'namespace/workflow_exec_id'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("default/", "workflow_exec_id")]
    [InlineData("default/a/b", "workflow_exec_id")]
    [InlineData("default/a b", "workflow_exec_id")]
    [InlineData("Default/abc", "namespace")]
    [InlineData("de fault/abc", "namespace")]
    public void Keys_with_an_invalid_part_are_refused_naming_that_part(string key, string field)
    {
        var error = Assert.Throws<InvalidIdentifierException>(() => ExecutionId.Parse(key));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void A_null_key_is_refused() =>
        Assert.Throws<ArgumentNullException>(() => ExecutionId.Parse(null!));

    [Fact]
    public void The_constructor_validates_both_parts()
    {
        Assert.Equal("namespace", Assert.Throws<InvalidIdentifierException>(() => new ExecutionId("UPPER", "abc")).Field);
        Assert.Equal("workflow_exec_id", Assert.Throws<InvalidIdentifierException>(() => new ExecutionId("default", "a/b")).Field);
    }

    [Fact]
    public void Execution_ids_with_equal_parts_are_equal()
    {
        Assert.Equal(new ExecutionId("default", "abc"), new ExecutionId("default", "abc"));
        Assert.NotEqual(new ExecutionId("default", "abc"), new ExecutionId("other", "abc"));
        Assert.NotEqual(new ExecutionId("default", "abc"), new ExecutionId("default", "ABC"));
    }
}
