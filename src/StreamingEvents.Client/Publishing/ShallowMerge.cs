using System.Buffers;
using System.Text.Json;

namespace StreamingEvents.Publishing;

/// <summary>
/// Mistral's <c>update_state</c>: the top-level members of an update replace the state's, the others are kept (a shallow
/// merge, like Python's <c>dict.update</c>). Works on UTF-8 JSON so that an update that names every member of the state —
/// a typed state given whole — costs one scan of its names, not a merge.
/// </summary>
internal static class ShallowMerge
{
    private static readonly JsonWriterOptions Writer = new() { SkipValidation = true };

    /// <summary>The top-level member names of an object, or <c>null</c> when <paramref name="json"/> is not an object.</summary>
    public static HashSet<string>? MemberNames(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            names.Add(reader.GetString()!);
            reader.Read();
            reader.Skip();
        }

        return names;
    }

    /// <summary>
    /// <paramref name="update"/> merged into <paramref name="state"/> (whose member names are <paramref name="stateNames"/>),
    /// and the merged state's member names.
    /// </summary>
    /// <exception cref="InvalidPayloadException">The state or the update is not a JSON object.</exception>
    public static (byte[] Merged, HashSet<string> Names) Merge(byte[] state, HashSet<string>? stateNames, byte[] update)
    {
        if (stateNames is null)
        {
            throw new InvalidPayloadException("UpdateStateAsync merges into the task's state, which is not a JSON object; use SetStateAsync to replace it.");
        }

        var updateNames = MemberNames(update)
            ?? throw new InvalidPayloadException("UpdateStateAsync merges an object into the task's state; the update is not a JSON object (use SetStateAsync to replace the state).");
        if (updateNames.IsSupersetOf(stateNames))
        {
            // Every member is replaced: the update is the new state.
            return (update, updateNames);
        }

        using var current = JsonDocument.Parse(state);
        using var changes = JsonDocument.Parse(update);
        var buffer = new ArrayBufferWriter<byte>(state.Length + update.Length);
        using (var writer = new Utf8JsonWriter(buffer, Writer))
        {
            writer.WriteStartObject();
            foreach (var member in current.RootElement.EnumerateObject())
            {
                var value = changes.RootElement.TryGetProperty(member.Name, out var changed) ? changed : member.Value;
                writer.WritePropertyName(member.Name);
                value.WriteTo(writer);
            }

            foreach (var member in changes.RootElement.EnumerateObject())
            {
                if (!stateNames.Contains(member.Name))
                {
                    member.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        updateNames.UnionWith(stateNames);
        return (buffer.WrittenSpan.ToArray(), updateNames);
    }
}
