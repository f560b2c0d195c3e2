using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace StreamingEvents;

/// <summary>
/// The naming rules for stream (topic) names, namespaces and identifiers. Every entry point checks them, so a bad name
/// is refused with a message that states the rule instead of surfacing later as a routing or storage problem.
/// </summary>
public static class Names
{
    /// <summary>The longest stream (topic) name accepted.</summary>
    public const int MaxStreamNameLength = 128;

    /// <summary>The longest namespace accepted.</summary>
    public const int MaxNamespaceLength = 64;

    /// <summary>The longest workflow execution, run or task identifier accepted.</summary>
    public const int MaxIdentifierLength = 256;

    /// <summary>The longest workflow name accepted.</summary>
    public const int MaxWorkflowNameLength = 256;

    /// <summary>The rule for stream names, as shown in error messages.</summary>
    public const string StreamNameRule =
        "a stream name is 1-128 characters from lowercase letters a-z, digits 0-9, '_', '-' and '.' (for example 'token' or 'search_result')";

    /// <summary>The rule for namespaces, as shown in error messages.</summary>
    public const string NamespaceRule =
        "a namespace is 1-64 characters from lowercase letters a-z, digits 0-9, '_', '-' and '.'";

    /// <summary>The rule for identifiers, as shown in error messages.</summary>
    public const string IdentifierRule =
        "an identifier is 1-256 characters from letters, digits and '_', '-', '.', ':', '@', '=', '+', '~'";

    /// <summary>The rule for workflow names, as shown in error messages.</summary>
    public const string WorkflowNameRule = "a workflow name is 1-256 characters with no control characters";

    private static readonly SearchValues<char> LowerNameChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_-.");

    private static readonly SearchValues<char> IdentifierChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:@=+~");

    /// <summary>Whether <paramref name="name"/> is a valid stream (topic) name.</summary>
    public static bool IsValidStreamName([NotNullWhen(true)] string? name) =>
        name is { Length: > 0 and <= MaxStreamNameLength } && !name.AsSpan().ContainsAnyExcept(LowerNameChars);

    /// <summary>Whether <paramref name="value"/> is a valid namespace.</summary>
    public static bool IsValidNamespace([NotNullWhen(true)] string? value) =>
        value is { Length: > 0 and <= MaxNamespaceLength } && !value.AsSpan().ContainsAnyExcept(LowerNameChars);

    /// <summary>Whether <paramref name="value"/> is a valid execution, run or task identifier.</summary>
    public static bool IsValidIdentifier([NotNullWhen(true)] string? value) =>
        value is { Length: > 0 and <= MaxIdentifierLength } && !value.AsSpan().ContainsAnyExcept(IdentifierChars);

    /// <summary>Whether <paramref name="value"/> is a valid workflow name.</summary>
    public static bool IsValidWorkflowName([NotNullWhen(true)] string? value)
    {
        if (value is not { Length: > 0 and <= MaxWorkflowNameLength })
        {
            return false;
        }

        // No control characters and no broken surrogate pairs: the name is shown in UIs and logs.
        for (var i = 0; i < value.Length; i += char.IsSurrogatePair(value, i) ? 2 : 1)
        {
            if (char.IsControl(value[i]) || char.IsSurrogate(value[i]) && !char.IsSurrogatePair(value, i))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws <see cref="InvalidStreamNameException"/> unless <paramref name="name"/> is a valid stream name.</summary>
    public static string ValidateStreamName(string? name) =>
        IsValidStreamName(name) ? name : throw new InvalidStreamNameException(name);

    /// <summary>Throws <see cref="InvalidIdentifierException"/> unless <paramref name="value"/> is a valid namespace.</summary>
    public static string ValidateNamespace(string? value, string field = "namespace") =>
        IsValidNamespace(value) ? value : throw new InvalidIdentifierException(field, value, NamespaceRule);

    /// <summary>Throws <see cref="InvalidIdentifierException"/> unless <paramref name="value"/> is a valid identifier.</summary>
    public static string ValidateIdentifier(string? value, string field) =>
        IsValidIdentifier(value) ? value : throw new InvalidIdentifierException(field, value, IdentifierRule);

    /// <summary>Throws <see cref="InvalidIdentifierException"/> unless <paramref name="value"/> is a valid workflow name.</summary>
    public static string ValidateWorkflowName(string? value, string field = "workflow_name") =>
        IsValidWorkflowName(value) ? value : throw new InvalidIdentifierException(field, value, WorkflowNameRule);
}
