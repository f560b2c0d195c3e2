namespace StreamingEvents;

/// <summary>
/// Identifies one workflow execution: the sequence domain of <c>broker_sequence</c>. Every topic published by tasks of
/// one execution shares one contiguous numbering.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.ExecutionId")]
public readonly record struct ExecutionId
{
    /// <summary>Creates an execution id, validating both parts.</summary>
    /// <exception cref="InvalidIdentifierException">A part breaks the naming rules.</exception>
    public ExecutionId(string @namespace, string workflowExecId)
    {
        Namespace = Names.ValidateNamespace(@namespace);
        WorkflowExecId = Names.ValidateIdentifier(workflowExecId, "workflow_exec_id");
    }

    /// <summary>The namespace (tenant) of the execution.</summary>
    [Id(0)]
    public string Namespace { get; }

    /// <summary>The workflow execution id.</summary>
    [Id(1)]
    public string WorkflowExecId { get; }

    /// <summary>The key of the execution's stream grain: <c>namespace/workflow_exec_id</c>.</summary>
    public string Key => $"{Namespace}/{WorkflowExecId}";

    /// <summary>Parses a key made by <see cref="Key"/>.</summary>
    /// <exception cref="InvalidIdentifierException">The key is not of the form <c>namespace/workflow_exec_id</c>.</exception>
    public static ExecutionId Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            throw new InvalidIdentifierException("execution", key, "an execution key is 'namespace/workflow_exec_id'");
        }

        return new ExecutionId(key[..slash], key[(slash + 1)..]);
    }

    /// <inheritdoc/>
    public override string ToString() => Key;
}
