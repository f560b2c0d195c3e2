using System.Buffers.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using StreamingEvents.Contracts;
using StreamingEvents.Frontend.Http;

namespace StreamingEvents.Frontend.Endpoints;

/// <summary>
/// <c>GET /v1/workflows/events/list</c>: past events as JSON pages, as Mistral's API lists them (the <c>data</c> object
/// of each envelope). Executions are walked in creation order and each one's events in sequence order; the cursor is the
/// next (execution, sequence).
/// </summary>
internal static class EventListEndpoints
{
    private const string CursorPrefix = "l1.";
    private const int ExecutionsPerPage = 100;

    public static void Map(RouteGroupBuilder v1) =>
        v1.MapGet("/workflows/events/list", ListAsync)
            .WithTags("Events")
            .RequireAuthorization(Security.SecurityHostingExtensions.SubscribePolicy)
            .WithName("ListEvents")
            .WithSummary("A page of past events, filtered by execution, root execution or run; pass next_cursor back as cursor.")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status410Gone);

    private static async Task ListAsync(HttpContext context, IGrainFactory grains, IStreamingEventsClient client, IOptions<FrontendOptions> options)
    {
        var request = context.Request.Query;
        var limit = (int)Math.Clamp(EventStreamQuery.Sequence(request, "limit") ?? 100, 1, options.Value.MaxListLimit);
        var query = new ExecutionQuery(
            Namespace: Security.Tenancy.Namespace(context),
            WorkflowExecId: Optional(request, "workflow_exec_id", "an identifier", Names.IsValidIdentifier),
            RootWorkflowExecId: Optional(request, "root_workflow_exec_id", "an identifier", Names.IsValidIdentifier));
        var runId = Optional(request, "workflow_run_id", "an identifier", Names.IsValidIdentifier);
        var (streamId, sequence) = request["cursor"].FirstOrDefault() is { Length: > 0 } cursor ? DecodeCursor(cursor) : (0L, 0L);

        var events = new List<ReadOnlyMemory<byte>>(limit);
        var scanBudget = Math.Max(limit * 10, 1000);
        string? next = null;
        var executions = await grains.GetGrain<IExecutionRegistryGrain>(0).FindAsync(query, streamId - 1, ExecutionsPerPage);
        foreach (var execution in executions)
        {
            var from = execution.StreamId == streamId ? sequence : 0;
            while (next is null)
            {
                var page = await client.ReadAsync(execution.Execution, StreamPosition.FromSequence(from), Math.Min(1000, scanBudget), cancellationToken: context.RequestAborted);
                scanBudget -= page.Events.Length;
                foreach (var streamEvent in page.Events)
                {
                    var data = DataOf(streamEvent.Json);
                    if (runId is null || RunIdOf(data) == runId)
                    {
                        events.Add(data);
                    }

                    if (events.Count == limit || scanBudget <= 0)
                    {
                        next = EncodeCursor(execution.StreamId, streamEvent.BrokerSequence + 1);
                        break;
                    }
                }

                if (page.ReachedHead || page.Events.Length == 0)
                {
                    break;
                }

                from = page.NextSequence;
            }

            if (next is not null)
            {
                break;
            }
        }

        if (next is null && executions.Length == ExecutionsPerPage)
        {
            next = EncodeCursor(executions[^1].StreamId + 1, 0);
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteStartArray("events");
        foreach (var data in events)
        {
            writer.WriteRawValue(data.Span, skipInputValidation: true);
        }

        writer.WriteEndArray();
        writer.WriteString("next_cursor", next);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    /// <summary>The bytes of the envelope's <c>data</c> member, without copying the rest.</summary>
    internal static ReadOnlyMemory<byte> DataOf(ReadOnlyMemory<byte> envelope)
    {
        var reader = new Utf8JsonReader(envelope.Span, new JsonReaderOptions { MaxDepth = StreamingLimits.MaxEnvelopeDepth });
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isData = reader.ValueTextEquals("data"u8);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (isData)
            {
                return envelope[start..(int)(reader.TokenStartIndex + 1)];
            }
        }

        throw new InvalidOperationException("The envelope has no data member.");
    }

    private static string? RunIdOf(ReadOnlyMemory<byte> data)
    {
        using var document = JsonDocument.Parse(data, JsonDefaults.Envelope);
        return document.RootElement.GetProperty("workflow_run_id").GetString();
    }

    private static string? Optional(IQueryCollection query, string name, string what, Func<string, bool> valid) =>
        query[name].FirstOrDefault() is { Length: > 0 } value && value != "*"
            ? valid(value) ? value : throw ApiProblemException.BadRequest(name, $"'{name}' must be {what}.")
            : null;

    private static string EncodeCursor(long streamId, long sequence)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, streamId);
        BitConverter.TryWriteBytes(bytes[8..], sequence);
        return CursorPrefix + Base64Url.EncodeToString(bytes);
    }

    private static (long StreamId, long Sequence) DecodeCursor(string cursor)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!cursor.StartsWith(CursorPrefix, StringComparison.Ordinal) || !TryDecode(cursor.AsSpan(CursorPrefix.Length), bytes))
        {
            throw ApiProblemException.BadRequest("cursor", "'cursor' must be a next_cursor from a previous page.");
        }

        var streamId = BitConverter.ToInt64(bytes);
        var sequence = BitConverter.ToInt64(bytes[8..]);
        return streamId >= 0 && sequence >= 0 ? (streamId, sequence) : throw ApiProblemException.BadRequest("cursor", "'cursor' is corrupt.");
    }

    /// <summary>
    /// Decodes exactly 16 bytes of base64url. <see cref="Base64Url.TryDecodeFromChars(ReadOnlySpan{char}, Span{byte}, out int)"/>
    /// returns <c>false</c> only for a short destination; malformed text (a character outside the alphabet, a length no
    /// encoding has, non-zero padding bits) throws.
    /// </summary>
    private static bool TryDecode(ReadOnlySpan<char> text, Span<byte> bytes)
    {
        if (!Base64Url.IsValid(text, out var length) || length != bytes.Length)
        {
            return false;
        }

        try
        {
            return Base64Url.TryDecodeFromChars(text, bytes, out var written) && written == bytes.Length;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
