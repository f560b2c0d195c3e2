namespace StreamingEvents.Tests.Abstractions;

public sealed class WorkflowContextTests
{
    [Fact]
    public void Normalize_fills_the_documented_defaults()
    {
        var normalized = new WorkflowContext("exec_1").Normalize();

        Assert.Equal("exec_1", normalized.WorkflowExecId);
        Assert.Equal("workflow", normalized.WorkflowName);
        Assert.Equal(WorkflowContext.DefaultWorkflowName, normalized.WorkflowName);
        Assert.Equal("exec_1", normalized.WorkflowRunId);
        Assert.Equal("exec_1", normalized.RootWorkflowExecId);
        Assert.Null(normalized.ParentWorkflowExecId);
        Assert.Equal("default", normalized.Namespace);
        Assert.Equal(new ExecutionId("default", "exec_1"), normalized.Execution);
    }

    [Fact]
    public void Normalize_keeps_every_given_value()
    {
        var context = new WorkflowContext("child", "Résumé 🚀", "run_2", "parent", "root", "tenant");

        Assert.Equal(context, context.Normalize());
    }

    [Fact]
    public void Normalize_is_idempotent()
    {
        var once = new WorkflowContext("exec_1", ParentWorkflowExecId: "p").Normalize();

        Assert.Equal(once, once.Normalize());
    }

    [Theory]
    [InlineData("namespace")]
    [InlineData("workflow_exec_id")]
    [InlineData("workflow_name")]
    [InlineData("workflow_run_id")]
    [InlineData("parent_workflow_exec_id")]
    [InlineData("root_workflow_exec_id")]
    public void Normalize_refuses_an_invalid_field_and_names_it(string field)
    {
        var valid = new WorkflowContext("exec_1");
        var context = field switch
        {
            "namespace" => valid with { Namespace = "Not Valid" },
            "workflow_exec_id" => valid with { WorkflowExecId = "a/b" },
            "workflow_name" => valid with { WorkflowName = "two\nlines" },
            "workflow_run_id" => valid with { WorkflowRunId = "run id" },
            "parent_workflow_exec_id" => valid with { ParentWorkflowExecId = "" },
            "root_workflow_exec_id" => valid with { RootWorkflowExecId = "root/x" },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };

        var error = Assert.Throws<InvalidIdentifierException>(context.Normalize);

        Assert.Equal(field, error.Field);
        Assert.StartsWith($"Invalid {field} ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_workflow_name_is_refused_rather_than_defaulted()
    {
        var error = Assert.Throws<InvalidIdentifierException>(() => new WorkflowContext("exec_1", WorkflowName: "").Normalize());

        Assert.Equal("workflow_name", error.Field);
    }
}
