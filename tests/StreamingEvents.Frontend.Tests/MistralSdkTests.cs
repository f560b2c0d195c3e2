using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.Frontend.Tests.Infrastructure;
using StreamingEvents.Testing;
using Xunit.Sdk;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// The server strict JavaScript clients use: <c>event_timestamp</c> in milliseconds (Mistral's TypeScript SDK rejects
/// integers beyond 2^53), and a 3 s inactivity timeout so that <c>CUSTOM_TASK_TIMED_OUT</c> is reachable over HTTP.
/// </summary>
public sealed class CompatServer : ServerFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["StreamingEvents:EventTimestampUnit"] = "Milliseconds",
        ["StreamingEvents:TaskInactivityTimeout"] = "00:00:03",
        ["StreamingEvents:MaintenanceInterval"] = "00:00:00.250",
    };
}

/// <summary>
/// Mistral's own TypeScript SDK (<c>@mistralai/mistralai</c>, pinned in <c>tests/compat/mistral-ts</c>) reads our streams
/// unchanged: <c>read-events.mjs</c> prints what the SDK parsed, and any schema violation makes it fail.
/// </summary>
public sealed class MistralSdkTests(CompatServer fixture) : IClassFixture<CompatServer>
{
    private static readonly string[] Tokens = ["Hel"];
    private static readonly object[] AppendLo = [new { op = "append", path = "/text", value = "lo" }];

    private Api Api => fixture.Api;

    [Fact]
    public async Task Mistral_typescript_sdk_parses_every_custom_task_event_type_on_the_events_executions_and_list_routes()
    {
        var exec = Api.NewId("mistral-ts");
        var expected = await PublishEveryTypeAsync(exec);

        // The ground truth, read by our own SSE reader; every envelope also passes the .NET wire-format check (milliseconds).
        var records = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec), expected.Count);
        Assert.Equal(expected, records.Select(r => r.EventType));
        Assert.All(records, r => WireFormat.AssertEnvelope(r, TimestampUnit.Milliseconds));

        var lines = await RunNodeAsync(exec, expected.Count);

        var events = lines.Where(l => l.GetProperty("source").GetString() == "events").ToList();
        var executions = lines.Where(l => l.GetProperty("source").GetString() == "executions").ToList();
        var listed = lines.Where(l => l.GetProperty("source").GetString() == "list").ToList();
        Assert.Equal(records.Select(r => (r.Id, r.Sequence, r.EventType)), events.Select(l => (l.GetProperty("id").GetString(), l.GetProperty("broker_sequence").GetInt64(), l.GetProperty("event_type").GetString()!)));
        Assert.Equal(records.Select(r => (r.Sequence, r.EventType)), executions.Select(l => (l.GetProperty("broker_sequence").GetInt64(), l.GetProperty("event_type").GetString()!)));
        Assert.Equal(records.Select(r => r.Json.GetProperty("data").GetProperty("event_id").GetString()), listed.Select(l => l.GetProperty("event_id").GetString()));
        Assert.Equal(records.Select(r => r.Stream), events.Select(l => l.GetProperty("custom_task_type").GetString()));
        Assert.Equal(records.Select(r => r.Json.GetProperty("data").GetProperty("event_timestamp").GetInt64()), events.Select(l => l.GetProperty("event_timestamp").GetInt64()));
    }

    [Fact]
    public async Task Mistral_typescript_sdk_metadata_filters_select_only_the_tasks_with_that_metadata()
    {
        var exec = Api.NewId("mistral-ts-meta");
        var ann = await Api.PublishTaskAsync(exec, updates: 0, metadata: new { user = "ann" });
        await Api.PublishTaskAsync(exec, updates: 0, metadata: new { user = "bob" });
        var annAgain = await Api.PublishTaskAsync(exec, updates: 0, metadata: new { user = "ann" });

        // The SDK serialises metadataFilters as its OpenAPI document says; the server must understand that form.
        var lines = await RunNodeAsync(exec, 4, "--metadata-filters", """{"user":"ann"}""");

        Assert.Equal([.. ann, .. annAgain], lines.Select(l => l.GetProperty("broker_sequence").GetInt64()));
    }

    [Fact]
    public async Task A_task_silent_past_the_inactivity_timeout_ends_with_a_timed_out_event_in_the_wire_format()
    {
        var exec = Api.NewId("timeout");
        var task = await Api.StartTaskAsync(exec, "progress", new { step = 0 });

        await using var stream = await Api.StreamAsync(Query.MistralDefaults().Set("workflow_exec_id", exec));
        var records = await stream.WaitForEventAsync(exec, 2);

        Assert.Equal(["CUSTOM_TASK_STARTED", "CUSTOM_TASK_TIMED_OUT"], records.Select(r => r.EventType));
        Assert.All(records, r => WireFormat.AssertEnvelope(r, TimestampUnit.Milliseconds));
        Assert.Equal(task.TaskId, records[1].TaskId);
        var timeoutType = records[1].Json.GetProperty("data").GetProperty("attributes").GetProperty("timeout_type");
        Assert.True(timeoutType.ValueKind is JsonValueKind.String or JsonValueKind.Null, records[1].Data);
    }

    /// <summary>Started; in progress with a whole state and with a patch; completed; failed; canceled; timed out.</summary>
    private async Task<List<string>> PublishEveryTypeAsync(string exec)
    {
        var tokens = await Api.StartTaskAsync(exec, "token", new { tokens = Array.Empty<string>(), text = string.Empty }, metadata: new { user = "ann" });
        await Api.UpdateAsync(tokens.TaskId, new { tokens = Tokens, text = "Hel" });
        await Api.PatchAsync(tokens.TaskId, AppendLo);
        await Api.CompleteAsync(tokens.TaskId, new { tokens = Tokens, text = "Hello" });
        var failing = await Api.StartTaskAsync(exec, "progress", new { step = 0 }, activityName: "search", activityId: "a1");
        await Api.FailAsync(failing.TaskId, "boom");
        var canceled = await Api.StartTaskAsync(exec, "search_result", new { hits = 0 });
        await Api.CancelAsync(canceled.TaskId, "user stop");

        // Left silent: the server ends it after the 3 s inactivity timeout. Await that event before reading with the SDK.
        var silent = await Api.StartTaskAsync(exec, "progress", new { step = 0 });
        await using (var stream = await Api.StreamAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", silent.Sequence + 1)))
        {
            Assert.Equal("CUSTOM_TASK_TIMED_OUT", (await stream.WaitForCountAsync(1))[0].EventType);
        }

        return
        [
            "CUSTOM_TASK_STARTED", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_COMPLETED",
            "CUSTOM_TASK_STARTED", "CUSTOM_TASK_FAILED", "CUSTOM_TASK_STARTED", "CUSTOM_TASK_CANCELED",
            "CUSTOM_TASK_STARTED", "CUSTOM_TASK_TIMED_OUT",
        ];
    }

    /// <summary>Runs <c>node read-events.mjs</c> against this server; fails with its output if it exits non-zero.</summary>
    private Task<List<JsonElement>> RunNodeAsync(string exec, int count, params string[] extra) => RunNodeAsync(fixture.Server.BaseAddress, exec, count, extra);

    /// <summary>Runs <c>node read-events.mjs</c> against a server; fails with its output if it exits non-zero.</summary>
    internal static async Task<List<JsonElement>> RunNodeAsync(Uri server, string exec, int count, params string[] extra)
    {
        var folder = CompatFolder();
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "@mistralai", "mistralai")))
        {
            Assert.Fail($"Mistral's TypeScript SDK is not installed in {folder}. Run eng/test.sh, which runs `npm ci --prefix tests/compat/mistral-ts`.");
        }

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["read-events.mjs", server.ToString(), exec, count.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra])
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new XunitException("node did not start.");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new XunitException($"node (v20 or later) is needed for the Mistral SDK compatibility test and was not found: {exception.Message}");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            try
            {
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                throw new XunitException($"read-events.mjs did not end within 90 s. stdout: {await output} stderr: {await error}");
            }

            var stdout = await output;
            if (process.ExitCode != 0)
            {
                throw new XunitException($"Mistral's SDK failed to read our stream (exit {process.ExitCode}): {await error}{Environment.NewLine}stdout: {stdout}");
            }

            return [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
        }
    }

    private static string CompatFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "StreamingEvents.sln")))
            {
                return Path.Combine(directory.FullName, "tests", "compat", "mistral-ts");
            }
        }

        throw new XunitException($"The repository root (with StreamingEvents.sln) was not found above {AppContext.BaseDirectory}.");
    }
}

/// <summary>Milliseconds for Mistral's TypeScript SDK, and the default inactivity timeout: executions stay running while the SDK works.</summary>
public sealed class LifecycleCompatServer : ServerFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["StreamingEvents:EventTimestampUnit"] = "Milliseconds",
    };
}

/// <summary>Mistral's TypeScript SDK on the workflow and activity lifecycle, the execution status route and its cancel.</summary>
public sealed class MistralSdkLifecycleTests(LifecycleCompatServer fixture) : IClassFixture<LifecycleCompatServer>
{
    [Fact]
    public async Task Mistral_typescript_sdk_reads_a_lifecycle_until_the_workflow_completes_then_gets_and_cancels_executions()
    {
        var exec = Api.NewId("mistral-life");
        var other = Api.NewId("mistral-stop");
        var client = fixture.Server.Services.GetRequiredService<IStreamingEventsClient>();
        var context = new WorkflowContext(exec, "chat");
        await client.RunExecutionAsync(context, async (execution, ct) =>
        {
            return await execution.RunActivityAsync("generate", async (activity, ct2) =>
            {
                await using var task = await activity.StartTaskAsync("token", new Dictionary<string, object> { ["text"] = "", ["draft"] = true }, cancellationToken: ct2);
                await task.UpdateStateAsync(new Dictionary<string, object> { ["text"] = "Hello" }, ct2);
                if (activity.Attempt == 1)
                {
                    throw new InvalidOperationException("retry me");
                }

                return "Hello";
            }, input: new { prompt = "hi" }, new ActivityOptions { MaxAttempts = 2 }, ct);
        }, input: new { question = "hi" });
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            client.RunExecutionAsync<int>(new WorkflowContext(exec + "-f", "chat"), (_, _) => throw new InvalidOperationException("boom")));

        // Left running, with a task open: the SDK's cancel ends both.
        var running = await client.StartExecutionAsync(new WorkflowContext(other, "chat"));
        var open = await running.StartTaskAsync("token", 1);

        var lines = await MistralSdkTests.RunNodeAsync(fixture.Server.BaseAddress, exec, 1, "--lifecycle", exec);
        var failedLines = await MistralSdkTests.RunNodeAsync(fixture.Server.BaseAddress, exec + "-f", 1, "--lifecycle", other);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (open.CancellationToken.Register(stopped.SetResult))
        {
            await stopped.Task.Within();
        }

        Assert.True(running.CancellationToken.IsCancellationRequested);
        Assert.Equal(CustomTaskStatus.Canceled, open.Status);
        await open.DisposeAsync();
        await running.DisposeAsync();

        var events = lines.Where(l => l.GetProperty("source").GetString() == "events").Select(l => l.GetProperty("event_type").GetString()).ToList();
        Assert.Equal(
        [
            "WORKFLOW_EXECUTION_STARTED", "ACTIVITY_TASK_STARTED", "CUSTOM_TASK_STARTED", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_COMPLETED",
            "ACTIVITY_TASK_RETRYING", "CUSTOM_TASK_STARTED", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_COMPLETED", "ACTIVITY_TASK_COMPLETED",
            "WORKFLOW_EXECUTION_COMPLETED",
        ], events);
        var get = lines.Single(l => l.GetProperty("source").GetString() == "get");
        Assert.Equal("COMPLETED", get.GetProperty("status").GetString());
        Assert.Equal("Hello", get.GetProperty("result").GetString());
        Assert.Equal(exec, get.GetProperty("root_execution_id").GetString());
        Assert.True(get.GetProperty("has_end_time").GetBoolean());

        Assert.Equal(["WORKFLOW_EXECUTION_STARTED", "WORKFLOW_EXECUTION_FAILED"],
            failedLines.Where(l => l.GetProperty("source").GetString() == "events").Select(l => l.GetProperty("event_type").GetString()));
        Assert.Equal("CANCELED", failedLines.Single(l => l.GetProperty("source").GetString() == "canceled").GetProperty("status").GetString());
    }

}
