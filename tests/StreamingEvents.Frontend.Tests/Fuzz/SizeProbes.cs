using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace StreamingEvents.Frontend.Tests.Fuzz;

/// <summary>
/// States of about 1 MiB, posted into the known execution: whole-state updates of one task (plain ASCII, so the
/// envelope is the state plus a constant overhead), updates whose characters the envelope escapes (so it grows), task
/// creations and completions. Each must be accepted or refused with 413 <c>event_too_large</c> exactly as the
/// 1,048,576-byte envelope cap says: every stored envelope is within the cap, every refusal reports a size over it, and
/// for the ASCII task no accepted state is larger than a refused one.
/// </summary>
internal sealed class SizeProbes
{
    public const int Cap = StreamingLimits.MaxEventBytes;

    /// <summary>How much the envelope overhead may grow during a run (two more digits of broker_sequence, twice).</summary>
    private const int OverheadBand = 4;

    private readonly ConcurrentBag<Probe> _probes = [];
    private readonly FuzzTargets _targets;
    private readonly int _seed;
    private readonly int _count;
    private readonly int _inputs;

    public SizeProbes(FuzzTargets targets, int seed, int inputs, string asciiTask, string escapedTask)
    {
        _targets = targets;
        _seed = seed;
        _inputs = inputs;
        _count = Math.Clamp(inputs / 60, 10, 80);
        AsciiTask = asciiTask;
        EscapedTask = escapedTask;
        CompleteTasks = [.. Enumerable.Range(0, _count).Where(n => n % 5 == 4).Select(n => $"fzc-{seed:x8}-{n}")];
    }

    public string AsciiTask { get; }

    public string EscapedTask { get; }

    /// <summary>Envelope bytes of an ASCII-state update of <see cref="AsciiTask"/> minus its state bytes, measured before the fuzz.</summary>
    public int AsciiOverhead { get; set; }

    /// <summary>The largest ASCII state (JSON bytes) whose envelope fits the cap.</summary>
    public int AsciiThreshold => Cap - AsciiOverhead;

    /// <summary>Tasks to create before the fuzz: one per completion probe.</summary>
    public IReadOnlyList<string> CompleteTasks { get; }

    public IReadOnlyCollection<Probe> Results => _probes;

    /// <summary>The probe ordinal of input <paramref name="index"/>, or -1: probes are spread evenly over the run.</summary>
    public int OrdinalOf(int index)
    {
        var step = _inputs / _count;
        return index % step == step / 2 && index / step < _count ? index / step : -1;
    }

    public FuzzRequest Create(int index, int ordinal)
    {
        var rng = new Random(FuzzCorpus.Mix(_seed ^ 0x5EED, index));
        var size = (ordinal % 3) switch
        {
            0 => AsciiThreshold + rng.Next(-48, 49),
            1 => rng.Next(1_048_000, 1_049_001),
            _ => rng.Next(1_047_000, 1_049_001),
        };
        var kind = (ordinal % 5) switch
        {
            0 or 1 => "state (ASCII)",
            2 => "state (escaped)",
            3 => "create",
            _ => "complete",
        };
        var state = kind == "state (escaped)" ? EscapedState(rng, size) : "\"" + new string('x', size - 2) + "\"";
        var stateBytes = Encoding.UTF8.GetBytes(state);
        string path;
        string route;
        string body;
        string taskId;
        switch (kind)
        {
            case "create":
                taskId = $"fzp-{_seed:x8}-{ordinal}";
                route = Routes.CreateTask;
                path = "/v1/tasks";
                body = $$"""{"type":"token","task_id":"{{taskId}}","workflow_context":{"workflow_exec_id":"{{_targets.KnownExec}}","workflow_name":"{{_targets.KnownWorkflow}}","workflow_run_id":"{{_targets.KnownRun}}"},"state":{{state}}}""";
                break;
            case "complete":
                taskId = CompleteTasks[ordinal / 5];
                route = Routes.TaskComplete;
                path = $"/v1/tasks/{taskId}/complete";
                body = $$"""{"state":{{state}}}""";
                break;
            default:
                taskId = kind == "state (ASCII)" ? AsciiTask : EscapedTask;
                route = Routes.TaskState;
                path = $"/v1/tasks/{taskId}/state";
                body = $$"""{"state":{{state}}}""";
                break;
        }

        var request = new FuzzRequest
        {
            Index = index,
            Route = route,
            Category = $"1 MiB probe: {kind}, state of {stateBytes.Length:N0} bytes",
            Method = "POST",
            Target = Encoding.ASCII.GetBytes(path),
            Body = Encoding.UTF8.GetBytes(body),
        };
        request.Headers.Add(("Content-Type", "application/json"u8.ToArray()));
        request.MustBe("a state of about 1 MiB is accepted or refused as event_too_large", kind == "create" ? [201, 413] : [200, 413]);
        request.Check = response => Record(new Probe(index, kind, taskId, stateBytes.Length, response.Status, response.Body));
        return request;
    }

    /// <summary>What breaks the cap's promise, once the known execution was read back (sequence → envelope bytes).</summary>
    public IEnumerable<string> Verify(IReadOnlyDictionary<long, int> envelopeBytes)
    {
        foreach (var probe in _probes.OrderBy(p => p.Index))
        {
            if (probe.Status == 413)
            {
                if (probe.ErrorCode != "event_too_large" || probe.LimitBytes != Cap || probe.SizeBytes is not > Cap)
                {
                    yield return $"{probe}: the 413 says error_code={probe.ErrorCode}, size_bytes={probe.SizeBytes}, limit_bytes={probe.LimitBytes}.";
                }
            }
            else if (probe.Sequence is not { } sequence || !envelopeBytes.TryGetValue(sequence, out var stored))
            {
                yield return $"{probe}: accepted, but event {probe.Sequence} is not in the known execution.";
            }
            else if (stored > Cap)
            {
                yield return $"{probe}: accepted and stored as a {stored:N0}-byte envelope, over the {Cap:N0}-byte cap.";
            }
        }

        // The ASCII task: the envelope is the state plus an overhead that only grows by the digits of broker_sequence
        // (it appears twice); acceptance must follow the cap within that band, and be monotone in the state's size.
        var ascii = _probes.Where(p => p.Kind == "state (ASCII)").ToList();
        var largestAccepted = ascii.Where(p => p.Status == 200).MaxBy(p => p.StateBytes);
        var smallestRefused = ascii.Where(p => p.Status == 413).MinBy(p => p.StateBytes);
        if (largestAccepted is not null && smallestRefused is not null && largestAccepted.StateBytes >= smallestRefused.StateBytes + OverheadBand)
        {
            yield return $"Not monotone: {largestAccepted} was accepted but {smallestRefused} was refused.";
        }

        foreach (var probe in ascii)
        {
            long? overhead = probe.Status == 413 ? probe.SizeBytes - probe.StateBytes
                : probe.Sequence is { } s && envelopeBytes.TryGetValue(s, out var stored) ? stored - probe.StateBytes : null;
            if (overhead is { } o && (o < AsciiOverhead || o > AsciiOverhead + OverheadBand))
            {
                yield return $"{probe}: its envelope is the state plus {o} bytes, not {AsciiOverhead}..{AsciiOverhead + OverheadBand} as measured.";
            }
        }
    }

    public string Summary()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"1 MiB probes: {_probes.Count} (ASCII threshold {AsciiThreshold:N0} state bytes = {Cap:N0} − {AsciiOverhead} bytes of envelope)");
        foreach (var group in _probes.GroupBy(p => p.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var accepted = group.Where(p => p.Status is 200 or 201).Select(p => p.StateBytes).ToList();
            var refused = group.Where(p => p.Status == 413).Select(p => p.StateBytes).ToList();
            text.Append(CultureInfo.InvariantCulture,
                $"\n  {group.Key}: accepted {accepted.Count}{Range(accepted)}, 413 {refused.Count}{Range(refused)}, other {group.Count() - accepted.Count - refused.Count}");
        }

        return text.ToString();

        static string Range(List<int> sizes) => sizes.Count == 0 ? string.Empty : $" ({sizes.Min():N0}–{sizes.Max():N0})";
    }

    private string? Record(Probe probe)
    {
        _probes.Add(probe);
        return null;
    }

    /// <summary>A JSON string of <paramref name="size"/> bytes (ASCII) with characters the envelope writes escaped (&lt; &gt; &amp; ' +).</summary>
    private static string EscapedState(Random rng, int size)
    {
        var text = new char[size];
        for (var i = 1; i < size - 1; i++)
        {
            text[i] = rng.Next(10) switch
            {
                0 => '<',
                1 => '>',
                2 => '&',
                3 => '\'',
                4 => '+',
                _ => 'x',
            };
        }

        text[0] = text[^1] = '"';
        return new string(text);
    }

    internal sealed record Probe(int Index, string Kind, string TaskId, int StateBytes, int Status, byte[] Body)
    {
        private readonly JsonElement? _json = Parse(Body);

        public long? Sequence => _json is { } json && json.TryGetProperty("broker_sequence", out var s) ? s.GetInt64() : null;

        public long? SizeBytes => _json is { } json && json.TryGetProperty("size_bytes", out var s) && s.TryGetInt64(out var n) ? n : null;

        public long? LimitBytes => _json is { } json && json.TryGetProperty("limit_bytes", out var s) && s.TryGetInt64(out var n) ? n : null;

        public string? ErrorCode => _json is { } json && json.TryGetProperty("error_code", out var s) ? s.GetString() : null;

        public override string ToString() => $"#{Index} {Kind} on {TaskId} with a {StateBytes:N0}-byte state ({Status}{(Sequence is { } q ? $", event {q}" : string.Empty)})";

        private static JsonElement? Parse(byte[] body)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }
}
