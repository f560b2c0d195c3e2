using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StreamingEvents.Frontend.Sse;
using StreamingEvents.Frontend.Tests.Infrastructure;
using StreamingEvents.Testing;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace StreamingEvents.Frontend.Tests.Fuzz;

/// <summary>
/// Hostile input on every HTTP route of a real frontend (Kestrel on 127.0.0.1, co-hosted silo, SQLite), while a known
/// execution is being published to. Seeded and reproducible: the seed and every failing input are printed.
/// Environment: <c>STREAMING_EVENTS_FUZZ_INPUTS</c> (default 3000), <c>STREAMING_EVENTS_FUZZ_SEED</c> (default random),
/// <c>STREAMING_EVENTS_FUZZ_WORKERS</c> (default 4), <c>STREAMING_EVENTS_FUZZ_ONLY</c> (comma-separated input indexes to
/// replay with the same seed and input count).
/// </summary>
public sealed class HttpFuzzTests(ITestOutputHelper output)
{
    private const int DefaultInputs = 3000;
    private const int DefaultWorkers = 4;
    private const int PublishEvery = 25;

    [Fact]
    public async Task Every_route_answers_hostile_input_with_a_4xx_problem_never_a_5xx_or_a_hang_and_no_stream_is_corrupted()
    {
        var inputs = EnvironmentInt("STREAMING_EVENTS_FUZZ_INPUTS") ?? DefaultInputs;
        var workers = EnvironmentInt("STREAMING_EVENTS_FUZZ_WORKERS") ?? DefaultWorkers;
        var seed = EnvironmentInt("STREAMING_EVENTS_FUZZ_SEED") ?? Random.Shared.Next();
        var only = Environment.GetEnvironmentVariable("STREAMING_EVENTS_FUZZ_ONLY") is { Length: > 0 } list
            ? list.Split(',').Select(i => int.Parse(i, CultureInfo.InvariantCulture)).ToArray()
            : null;
        var replay = $"STREAMING_EVENTS_FUZZ_SEED=0x{seed:x8} STREAMING_EVENTS_FUZZ_INPUTS={inputs}";
        output.WriteLine($"seed 0x{seed:x8}, {inputs} inputs{(only is null ? string.Empty : $" (only #{string.Join(", #", only)})")}, {workers} workers; replay with {replay}");
        var total = Stopwatch.StartNew();

        await using var server = await FuzzServer.StartAsync(new Dictionary<string, string?>());
        using var api = new Api(server.BaseAddress);
        var failures = new List<string>();

        // The known execution: published to before the fuzz, during it (paced by the fuzz's progress) and fuzzed itself.
        await using var known = await KnownExecution.CreateAsync(api, seed, inputs);
        await known.PublishAsync(20);
        await known.SubscribeAsync();
        var corpus = new FuzzCorpus(seed, known.Targets);
        var runner = new FuzzRunner(server);
        var pace = Channel.CreateUnbounded<bool>();
        var publisher = Task.Run(async () =>
        {
            try
            {
                await foreach (var _ in pace.Reader.ReadAllAsync())
                {
                    await known.PublishAsync(1);
                }
            }
            catch (Exception exception)
            {
                // The run goes on; the failure is reported with the others.
                lock (failures)
                {
                    failures.Add($"Publishing to the known execution during the fuzz failed: {Trim(exception.ToString(), 4000)}");
                }
            }
        });

        var fuzzClock = Stopwatch.StartNew();
        var indexes = only ?? Enumerable.Range(0, inputs).ToArray();
        var next = -1;
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            int at;
            while ((at = Interlocked.Increment(ref next)) < indexes.Length)
            {
                var index = indexes[at];
                var ordinal = known.Probes.OrdinalOf(index);
                var request = ordinal >= 0 ? known.Probes.Create(index, ordinal) : corpus.Create(index);
                await runner.RunAsync(request);
                if (Interlocked.Increment(ref done) % PublishEvery == 0)
                {
                    pace.Writer.TryWrite(true);
                }
            }
        })));
        fuzzClock.Stop();
        pace.Writer.Complete();
        await publisher.Within(TimeSpan.FromSeconds(60));

        // What the fuzz saw.
        output.WriteLine($"fuzz: {runner.Total} inputs in {fuzzClock.Elapsed.TotalSeconds:0.0} s ({runner.Total / fuzzClock.Elapsed.TotalSeconds:0} per second)");
        output.WriteLine($"{"route",-52} {"inputs",6} {"refuse",7}  statuses (\"refuse\": inputs that must get a 4xx or one exact status)");
        foreach (var route in Routes.All)
        {
            if (runner.Stats.TryGetValue(route, out var stats))
            {
                output.WriteLine($"{route,-52} {stats.Inputs,6} {stats.MustRefuse,7}  {stats}");
            }
        }

        output.WriteLine($"{"total",-52} {runner.Total,6} {runner.Stats.Values.Sum(s => s.MustRefuse),7}");
        output.WriteLine(known.Probes.Summary());
        failures.AddRange(Report(runner.Failures, server.Errors.Errors));

        // After the fuzz: the known execution is intact, the service still works, nothing leaked or failed inside.
        failures.AddRange(await Checked("the known execution reads back 1..head", () => known.VerifyAsync(output)));
        await known.DisposeAsync();
        failures.AddRange(await Checked("the service still serves normal requests", () => ServesNormalRequestsAsync(api)));
        failures.AddRange(await Checked("every SSE connection is released", () => ConnectionsReleasedAsync(server)));
        if (server.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested)
        {
            failures.Add("The host is stopping: something crashed it.");
        }

        foreach (var group in server.Errors.Errors.Where(e => e.FuzzId is null).GroupBy(e => (e.Category, e.EventId.Id, Type: e.Exception?.GetType().FullName)).Take(10))
        {
            failures.Add($"The server logged {group.Count()} error(s) outside any fuzz request ({group.Key.Category}, {group.Key.Type ?? "no exception"}); the first:\n{Trim(group.First().ToString(), 4000)}");
        }

        output.WriteLine($"total: {total.Elapsed.TotalSeconds:0.0} s; {failures.Count} failure(s)");
        if (failures.Count > 0)
        {
            var message = $"seed 0x{seed:x8} ({replay}): {failures.Count} failure(s)\n\n{string.Join("\n\n", failures)}";
            output.WriteLine(message);
            throw new XunitException(Trim(message, 60_000));
        }
    }

    /// <summary>Failures grouped by route and kind, with up to three inputs each, the answers, and the server's errors for them.</summary>
    private static List<string> Report(IReadOnlyCollection<FuzzFailure> failures, IReadOnlyList<ServerError> errors)
    {
        var byInput = errors.Where(e => e.FuzzId is not null).ToLookup(e => e.FuzzId!, StringComparer.Ordinal);
        var report = new List<string>();
        foreach (var group in failures.GroupBy(f => (f.Request.Route, Kind: Kind(f.Problem))).OrderBy(g => g.Key.Route, StringComparer.Ordinal))
        {
            var text = new StringBuilder($"{group.Key.Route}: {group.Key.Kind} — {group.Count()} input(s)");
            var causes = group.SelectMany(f => byInput[f.Request.Index.ToString(CultureInfo.InvariantCulture)].Take(1)).GroupBy(Cause, StringComparer.Ordinal).ToList();
            foreach (var cause in causes.OrderByDescending(c => c.Count()))
            {
                text.Append(CultureInfo.InvariantCulture, $"\n  cause ×{cause.Count()}: {cause.Key}");
            }

            foreach (var failure in group.OrderBy(f => f.Request.Body?.Length ?? 0).ThenBy(f => f.Request.Target.Length).Take(3))
            {
                text.Append(CultureInfo.InvariantCulture, $"\n  {failure.Problem} after {failure.Elapsed.TotalMilliseconds:0} ms\n  {failure.Request.Describe().Replace("\n", "\n  ", StringComparison.Ordinal)}");
                if (failure.Response is { } response)
                {
                    text.Append("  answer: ").Append(response.ToString().Replace("\n", "\n  ", StringComparison.Ordinal)).Append('\n');
                }

                foreach (var error in byInput[failure.Request.Index.ToString(CultureInfo.InvariantCulture)].Take(2))
                {
                    text.Append("  server log: ").Append(Trim(error.ToString(), 3000).Replace("\n", "\n    ", StringComparison.Ordinal)).Append('\n');
                }
            }

            report.Add(text.ToString());
        }

        // Errors logged under a fuzz input whose answer looked fine (e.g. an SSE stream that failed after its 200).
        var failed = failures.Select(f => f.Request.Index.ToString(CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
        foreach (var group in byInput.Where(g => !failed.Contains(g.Key)).GroupBy(g => g.First().Message).Take(10))
        {
            report.Add($"The server logged errors under {group.Count()} input(s) whose answer passed (first: #{group.First().Key}):\n  {Trim(group.First().First().ToString(), 4000).Replace("\n", "\n  ", StringComparison.Ordinal)}");
        }

        return report;
    }

    /// <summary>A server error's signature: the innermost exception's type and the first frame of this service's code.</summary>
    private static string Cause(ServerError error)
    {
        var exception = error.Exception;
        while (exception?.InnerException is not null)
        {
            exception = exception.InnerException;
        }

        var frame = error.Exception?.ToString().Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("at StreamingEvents.", StringComparison.Ordinal));
        var message = exception?.Message is { } m ? m.Split(['.', '\''])[0].Trim() : error.Message;
        return $"{exception?.GetType().Name ?? "(no exception)"}: {message} {frame?.Split(" in ")[0]}";
    }

    /// <summary>The kind of a failure, without the specifics of one input (for grouping).</summary>
    private static string Kind(string problem)
    {
        var cut = problem.IndexOfAny(['(', ':']);
        return cut > 0 ? problem[..cut].Trim() : problem;
    }

    private static async Task ServesNormalRequestsAsync(Api api)
    {
        var exec = Api.NewId("fz-after");
        var task = await api.StartTaskAsync(exec, state: new { text = string.Empty });
        await api.UpdateAsync(task.TaskId, new { text = "a" });
        await api.PatchAsync(task.TaskId, new[] { new { op = "append", path = "/text", value = "b" } });
        await api.CompleteAsync(task.TaskId, new { text = "ab" });

        var records = await api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec), 4);
        Assert.Equal([1L, 2L, 3L, 4L], records.Select(r => r.Sequence));
        Assert.Equal(["CUSTOM_TASK_STARTED", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_COMPLETED"], records.Select(r => r.EventType));
        using var info = await api.Http.GetAsync($"v1/tasks/{task.TaskId}");
        var json = await Api.ExpectAsync(info, HttpStatusCode.OK);
        Assert.Equal("completed", json.GetProperty("status").GetString());
        Assert.Equal("ab", json.GetProperty("state").GetProperty("text").GetString());
        using var streams = await api.Http.GetAsync("v1/streams?limit=5");
        var listed = (await Api.ExpectAsync(streams, HttpStatusCode.OK)).GetProperty("streams").EnumerateArray().Select(e => e.GetProperty("workflow_exec_id").GetString());
        Assert.Contains(exec, listed);
    }

    private static async Task ConnectionsReleasedAsync(FuzzServer server)
    {
        var connections = server.Services.GetRequiredService<SseConnections>();
        await Eventually.TrueAsync(() => connections.Count == 0, $"every SSE connection closed by the fuzzer is released (open: {connections.Count})");
    }

    private static async Task<IEnumerable<string>> Checked(string what, Func<Task> check)
    {
        try
        {
            await check();
            return [];
        }
        catch (Exception exception)
        {
            return [$"Not true that {what}: {Trim(exception.ToString(), 6000)}"];
        }
    }

    private static async Task<IEnumerable<string>> Checked(string what, Func<Task<IReadOnlyList<string>>> check)
    {
        try
        {
            return (await check()).Select(problem => $"Not true that {what}: {problem}");
        }
        catch (Exception exception)
        {
            return [$"Not true that {what}: {Trim(exception.ToString(), 6000)}"];
        }
    }

    /// <summary>A list of sequences as ranges: <c>1-40, 42, 44-50</c>.</summary>
    private static string Summarize(IEnumerable<long> sequences)
    {
        var ranges = new List<string>();
        long? start = null;
        long previous = 0;
        foreach (var sequence in sequences.Append(long.MinValue))
        {
            if (start is { } from && sequence != previous + 1)
            {
                ranges.Add(from == previous ? $"{from}" : $"{from}-{previous}");
                start = null;
            }

            start ??= sequence;
            previous = sequence;
        }

        return string.Join(", ", ranges);
    }

    private static string Trim(string text, int max) => text.Length <= max ? text : $"{text[..max]}… ({text.Length:N0} characters)";

    private static int? EnvironmentInt(string name) => Environment.GetEnvironmentVariable(name) switch
    {
        null or "" => null,
        var hex when hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) => (int)uint.Parse(hex[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        var text => int.Parse(text, CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The execution the fuzz must not corrupt: a steady task that a publisher updates (whole states and patches,
    /// every acknowledgement kept) before and during the fuzz; victim tasks the fuzzer attacks; the tasks of the 1 MiB
    /// probes. Afterwards it must read back as exactly 1..head, each event valid per the wire format.
    /// </summary>
    private sealed class KnownExecution : IAsyncDisposable
    {
        private readonly Api _api;
        private readonly string _steadyTask;
        private readonly List<(long Sequence, string PayloadType, JsonNode Value)> _acknowledged = [];
        private readonly Lock _gate = new();
        private int _published;
        private string _text = string.Empty;
        private RawSseReader? _live;
        private RawSseReader? _wildcard;

        private KnownExecution(Api api, FuzzTargets targets, SizeProbes probes, string steadyTask)
        {
            _api = api;
            Targets = targets;
            Probes = probes;
            _steadyTask = steadyTask;
        }

        public FuzzTargets Targets { get; private set; }

        public SizeProbes Probes { get; }

        public static async Task<KnownExecution> CreateAsync(Api api, int seed, int inputs)
        {
            var exec = $"fz-known-{seed:x8}";
            const string Workflow = "fuzz known ✓";
            var run = $"fz-run-{seed:x8}";
            string[] victims = [.. Enumerable.Range(0, 4).Select(n => $"fzv-{seed:x8}-{n}")];
            var targets = new FuzzTargets(exec, Workflow, run, victims,
                [.. Enumerable.Range(0, 48).Select(n => $"fzt-{seed:x8}-{n}")],
                [.. Enumerable.Range(0, 12).Select(n => $"fzx-{seed:x8}-{n}")], [], []);
            var probes = new SizeProbes(targets, seed, inputs, $"fza-{seed:x8}", $"fze-{seed:x8}");
            var known = new KnownExecution(api, targets, probes, $"fzs-{seed:x8}");

            await api.StartTaskAsync(exec, "token", new { n = 0, text = string.Empty }, Workflow, runId: run, metadata: new { user = "fuzz", n = 1 }, taskId: known._steadyTask);
            string[] types = ["token", "progress", "search_result", "token"];
            for (var i = 0; i < victims.Length; i++)
            {
                await api.StartTaskAsync(exec, types[i], new { n = 0, text = string.Empty, tokens = Array.Empty<string>() }, Workflow, runId: run,
                    metadata: i % 2 == 0 ? new { user = "fuzz" } : null, activityName: i == 1 ? "fuzz activity" : null, activityId: i == 1 ? "act-1" : null, taskId: victims[i]);
            }

            await api.StartTaskAsync(exec, "token", string.Empty, Workflow, runId: run, taskId: probes.AsciiTask);
            await api.StartTaskAsync(exec, "token", string.Empty, Workflow, runId: run, taskId: probes.EscapedTask);
            foreach (var task in probes.CompleteTasks)
            {
                await api.StartTaskAsync(exec, "progress", string.Empty, Workflow, runId: run, taskId: task);
            }

            // The envelope overhead of an ASCII state on the probe task: its envelope minus the 3 bytes of "x".
            var probe = await api.UpdateAsync(probes.AsciiTask, "x");
            var written = (await api.TakeAsync(Query.Execution(exec).Set("event_source", "DATABASE").Set("last_event_id", probe - 1), 1))[0];
            probes.AsciiOverhead = Encoding.UTF8.GetByteCount(written.Data) - 3;

            // Real cursors, for the fuzzer to replay and mutate: a wildcard stream's record ids and a list page's next_cursor.
            var wildcard = await api.TakeAsync(Query.Events().Set("workflow_name", Workflow), 2);
            using var page = await api.Http.GetAsync($"v1/workflows/events/list?limit=1&workflow_exec_id={exec}");
            var nextCursor = (await Api.ExpectAsync(page, HttpStatusCode.OK)).GetProperty("next_cursor").GetString();
            known.Targets = targets with { Cursors = [.. wildcard.Select(r => r.Id!)], ListCursors = nextCursor is null ? [] : [nextCursor] };
            return known;
        }

        /// <summary>
        /// Live readers for the whole fuzz: the execution's own stream (history, then live) and a wildcard stream of its
        /// workflow (record ids are cursors). Both must end up with exactly what the history holds.
        /// </summary>
        public async Task SubscribeAsync()
        {
            _live = await RawSseReader.OpenAsync(_api.Http, Query.Execution(Targets.KnownExec));
            _wildcard = await RawSseReader.OpenAsync(_api.Http, Query.Events().Set("workflow_name", Targets.KnownWorkflow));
        }

        public async ValueTask DisposeAsync()
        {
            if (_live is not null)
            {
                await _live.DisposeAsync();
            }

            if (_wildcard is not null)
            {
                await _wildcard.DisposeAsync();
            }
        }

        /// <summary>Publishes <paramref name="count"/> updates of the steady task, alternating whole states and patches.</summary>
        public async Task PublishAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var n = Interlocked.Increment(ref _published);
                if (n % 2 == 0)
                {
                    object[] operations = [new { op = "append", path = "/text", value = $"t{n} " }, new { op = "replace", path = "/n", value = n }];
                    var sequence = await _api.PatchAsync(_steadyTask, operations);
                    lock (_gate)
                    {
                        _text += $"t{n} ";
                        _acknowledged.Add((sequence, "json_patch", JsonSerializer.SerializeToNode(operations)!));
                    }
                }
                else
                {
                    string text;
                    lock (_gate)
                    {
                        text = _text;
                    }

                    var state = new { n, text };
                    var sequence = await _api.UpdateAsync(_steadyTask, state);
                    lock (_gate)
                    {
                        _acknowledged.Add((sequence, "json", JsonSerializer.SerializeToNode(state)!));
                    }
                }
            }
        }

        /// <summary>Reads the execution back (history up to the head) and lists what is wrong with it.</summary>
        public async Task<IReadOnlyList<string>> VerifyAsync(ITestOutputHelper output)
        {
            var problems = new List<string>();
            using var info = await _api.Http.GetAsync($"v1/streams/{Targets.KnownExec}");
            var head = (await Api.ExpectAsync(info, HttpStatusCode.OK)).GetProperty("head").GetInt64();
            await using var history = await RawSseReader.OpenAsync(_api.Http, Query.Execution(Targets.KnownExec).Set("event_source", "DATABASE"));
            var records = (await history.WaitForAsync(_ => false, TimeSpan.FromSeconds(60))).ToList();
            if (records.FirstOrDefault(r => r.IsError) is { } failed)
            {
                problems.Add($"the history ended with an error record: {failed.Raw.Data}");
                records.RemoveAll(r => r.IsError);
            }

            var sequences = records.Select(r => r.Sequence).ToList();
            var expected = Enumerable.Range(1, (int)head).Select(s => (long)s).ToList();
            if (!sequences.SequenceEqual(expected))
            {
                problems.Add($"read [{Summarize(sequences)}] for head {head}: missing [{Summarize(expected.Except(sequences).Take(20))}], " +
                    $"duplicated [{string.Join(", ", sequences.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => g.Key).Take(10))}]");
            }

            var envelopeBytes = new Dictionary<long, int>();
            var bySequence = new Dictionary<long, Envelope>();
            foreach (var record in records)
            {
                envelopeBytes[record.Sequence] = Encoding.UTF8.GetByteCount(record.Raw.Data);
                bySequence[record.Sequence] = record;
                try
                {
                    Assert.Equal(record.Sequence.ToString(CultureInfo.InvariantCulture), record.Raw.Id);
                    Assert.Equal(Targets.KnownExec, record.ExecId);
                    Assert.True(envelopeBytes[record.Sequence] <= SizeProbes.Cap, $"event {record.Sequence} is {envelopeBytes[record.Sequence]:N0} bytes, over the cap.");
                    WireFormat.AssertEnvelope(new EventRecord(record.Raw), TimestampUnit.Nanoseconds);
                }
                catch (XunitException exception)
                {
                    problems.Add($"event {record.Sequence}: {Trim(exception.Message, 1500)}");
                }
                catch (JsonException exception) when (record.Depth > Envelope.DefaultMaxDepth)
                {
                    problems.Add($"event {record.Sequence} is valid JSON but nests {record.Depth} levels deep: a reader with System.Text.Json's default limit of " +
                        $"{Envelope.DefaultMaxDepth} cannot read it ({exception.Message}). The request's depth limit counts from the body, the envelope adds levels.");
                }
            }

            // Every acknowledged publish is there, at its number, with what was published.
            List<(long Sequence, string PayloadType, JsonNode Value)> acknowledged;
            lock (_gate)
            {
                acknowledged = [.. _acknowledged];
            }

            foreach (var (sequence, payloadType, value) in acknowledged)
            {
                if (!bySequence.TryGetValue(sequence, out var record))
                {
                    problems.Add($"acknowledged event {sequence} is missing");
                    continue;
                }

                var data = record.Root.GetProperty("data");
                var attributes = data.GetProperty("attributes");
                var payload = attributes.TryGetProperty("payload", out var p) ? p : default;
                if (attributes.GetProperty("custom_task_id").GetString() != _steadyTask || data.GetProperty("event_type").GetString() != "CUSTOM_TASK_IN_PROGRESS"
                    || payload.ValueKind != JsonValueKind.Object || payload.GetProperty("type").GetString() != payloadType
                    || !JsonNode.DeepEquals(JsonNode.Parse(payload.GetProperty("value").GetRawText()), value))
                {
                    problems.Add($"acknowledged event {sequence} is not what was published ({payloadType} {value.ToJsonString()}): {Trim(record.Raw.Data, 600)}");
                }
            }

            // The steady task's state is every update applied in order.
            using var task = await _api.Http.GetAsync($"v1/tasks/{_steadyTask}");
            var state = (await Api.ExpectAsync(task, HttpStatusCode.OK)).GetProperty("state");
            if (state.GetProperty("n").GetInt32() != _published || state.GetProperty("text").GetString() != _text)
            {
                problems.Add($"the steady task's state is {state.GetRawText()}, not n={_published} with text '{_text}'");
            }

            // The live readers got the same events, each once, in order, byte for byte.
            foreach (var (name, reader) in new[] { ("the execution's live stream", _live!), ("the workflow's wildcard stream", _wildcard!) })
            {
                var clock = Stopwatch.StartNew();
                IReadOnlyList<Envelope> delivered;
                try
                {
                    delivered = await reader.WaitForAsync(r => r.Any(e => e.IsError || (e.ExecId == Targets.KnownExec && e.Sequence == head)), TimeSpan.FromSeconds(30));
                }
                catch (Exception exception) when (exception is TimeoutException or InvalidOperationException)
                {
                    problems.Add($"{name} did not deliver event {head}: {Trim(exception.ToString(), 1500)}");
                    continue;
                }

                if (delivered.FirstOrDefault(r => r.IsError) is { } error)
                {
                    problems.Add($"{name} sent an error record: {error.Raw.Data}");
                }

                var live = delivered.Where(r => !r.IsError && r.ExecId == Targets.KnownExec).ToList();
                if (!live.Select(r => r.Sequence).SequenceEqual(sequences))
                {
                    problems.Add($"{name} delivered [{Summarize(live.Select(r => r.Sequence))}], not [{Summarize(sequences)}]");
                }
                else if (live.Zip(records).FirstOrDefault(pair => pair.First.Raw.Data != pair.Second.Raw.Data) is { First: not null } different)
                {
                    problems.Add($"{name} delivered event {different.First.Sequence} differently from the history: {Trim(different.First.Raw.Data, 300)} vs {Trim(different.Second.Raw.Data, 300)}");
                }

                output.WriteLine($"{name}: {live.Count} events, complete {clock.Elapsed.TotalMilliseconds:0} ms after the history was read");
            }

            // The list route returns the same events (their data objects), in the same order.
            var listed = new List<JsonElement>();
            string? cursor = null;
            do
            {
                using var page = await _api.Http.GetAsync($"v1/workflows/events/list?limit=100&workflow_exec_id={Targets.KnownExec}{(cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor))}");
                if ((int)page.StatusCode >= 500)
                {
                    problems.Add($"events/list of the known execution answered {(int)page.StatusCode}: {Trim(await page.Content.ReadAsStringAsync(), 500)}");
                    break;
                }

                using var json = JsonDocument.Parse(await page.Content.ReadAsStringAsync(), Envelope.Deep);
                listed.AddRange(json.RootElement.GetProperty("events").EnumerateArray().Select(e => e.Clone()));
                cursor = json.RootElement.GetProperty("next_cursor").GetString();
            }
            while (cursor is not null && listed.Count < records.Count + 1000);

            var streamed = records.Select(r => r.Root.GetProperty("data")).ToList();
            if (listed.Count != streamed.Count || listed.Zip(streamed).Any(pair => !JsonElement.DeepEquals(pair.First, pair.Second)))
            {
                var first = listed.Zip(streamed).Select((pair, i) => (pair, i)).FirstOrDefault(x => !JsonElement.DeepEquals(x.pair.First, x.pair.Second));
                problems.Add($"events/list returned {listed.Count} events, the stream {streamed.Count}; first difference at position {first.i}");
            }

            problems.AddRange(Probes.Verify(envelopeBytes));
            output.WriteLine($"known execution {Targets.KnownExec}: head {head}, read {records.Count} events ({envelopeBytes.Values.Sum() / 1024.0 / 1024.0:0.0} MiB, deepest {records.Select(r => r.Depth).DefaultIfEmpty(0).Max()} levels), " +
                $"{acknowledged.Count} acknowledged publishes checked, {listed.Count} listed; {problems.Count} problem(s)");
            return problems;
        }
    }
}
