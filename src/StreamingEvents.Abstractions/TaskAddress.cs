namespace StreamingEvents;

/// <summary>
/// Identifies one task: task ids are unique within a namespace (tenant), so that one tenant never learns another's ids.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.TaskAddress")]
public readonly record struct TaskAddress
{
    /// <summary>Creates a task address, validating both parts.</summary>
    /// <exception cref="InvalidIdentifierException">A part breaks the naming rules.</exception>
    public TaskAddress(string @namespace, string taskId)
    {
        Namespace = Names.ValidateNamespace(@namespace);
        TaskId = Names.ValidateIdentifier(taskId, "task_id");
    }

    /// <summary>The namespace (tenant) of the task.</summary>
    [Id(0)]
    public string Namespace { get; }

    /// <summary>The task id.</summary>
    [Id(1)]
    public string TaskId { get; }

    /// <summary>The key of the task's grain: <c>namespace/task_id</c>.</summary>
    public string Key => $"{Namespace}/{TaskId}";

    /// <summary>Parses a key made by <see cref="Key"/>.</summary>
    /// <exception cref="InvalidIdentifierException">The key is not of the form <c>namespace/task_id</c>.</exception>
    public static TaskAddress Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            throw new InvalidIdentifierException("task", key, "a task key is 'namespace/task_id'");
        }

        return new TaskAddress(key[..slash], key[(slash + 1)..]);
    }

    /// <inheritdoc/>
    public override string ToString() => Key;
}
