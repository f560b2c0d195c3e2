using System.Text;

namespace StreamingEvents.Frontend.Tests.Infrastructure;

/// <summary>A path with query parameters, repeated ones allowed, escaped as a client would.</summary>
public sealed class Query(string path)
{
    /// <summary>Every filter of the events route, as Mistral's clients send them by default.</summary>
    private static readonly string[] MistralFilters =
    [
        "scope", "activity_name", "activity_id", "workflow_name", "workflow_exec_id", "root_workflow_exec_id", "parent_workflow_exec_id", "stream",
    ];

    private readonly List<KeyValuePair<string, string>> _pairs = [];

    /// <summary><c>GET /v1/workflows/events/stream</c> with no parameter.</summary>
    public static Query Events() => new("v1/workflows/events/stream");

    /// <summary>
    /// <c>GET /v1/workflows/events/stream</c> as Mistral's clients call it: every filter sent, <c>*</c> for the unset
    /// ones, and <c>start_seq=0</c>.
    /// </summary>
    public static Query MistralDefaults()
    {
        var query = Events();
        foreach (var name in MistralFilters)
        {
            query.Add(name, "*");
        }

        return query.Add("start_seq", "0");
    }

    /// <summary><c>GET /v1/workflows/executions/{id}/stream</c>.</summary>
    public static Query Execution(string execId) => new($"v1/workflows/executions/{Uri.EscapeDataString(execId)}/stream");

    /// <summary><c>GET /v1/workflows/events/list</c>.</summary>
    public static Query List() => new("v1/workflows/events/list");

    /// <summary>Sets a parameter, replacing any value it had.</summary>
    public Query Set(string name, object value)
    {
        _pairs.RemoveAll(pair => pair.Key == name);
        return Add(name, value);
    }

    /// <summary>Adds a value (a parameter may repeat).</summary>
    public Query Add(string name, object value)
    {
        _pairs.Add(new(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!));
        return this;
    }

    public Query Remove(string name)
    {
        _pairs.RemoveAll(pair => pair.Key == name);
        return this;
    }

    public override string ToString()
    {
        var text = new StringBuilder(path);
        for (var i = 0; i < _pairs.Count; i++)
        {
            text.Append(i == 0 ? '?' : '&').Append(Uri.EscapeDataString(_pairs[i].Key)).Append('=').Append(Uri.EscapeDataString(_pairs[i].Value));
        }

        return text.ToString();
    }

    public static implicit operator string(Query query) => query?.ToString() ?? string.Empty;
}
