using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamingEvents.Cli.Http;

namespace StreamingEvents.Cli.Commands;

/// <summary>
/// <c>se publish</c>: a test task over HTTP. <c>POST /v1/tasks</c> with <c>{"text": ""}</c>, one
/// <c>POST /v1/tasks/{id}/state</c> with an <c>append</c> patch per token at the given rate, then
/// <c>POST /v1/tasks/{id}/complete</c>. A task of type <c>progress</c> publishes <c>progress_idx</c>/<c>progress_total</c>
/// instead. Prints the execution id, the task id and each event's broker_sequence; Ctrl+C cancels the task.
/// </summary>
internal sealed class PublishCommand(CliContext context) : AsyncCommand<PublishCommand.Settings>
{
    private static readonly string[] Words =
        ["Streaming", " events", " arrive", " in", " order,", " each", " one", " exactly", " once,", " from", " the", " first", " token", " to", " the", " last."];

    internal sealed class Settings : ServerSettings
    {
        [CommandOption("--exec <WORKFLOW_EXEC_ID>")]
        [Description("The execution to publish to (default: a new one, printed).")]
        public string? Exec { get; init; }

        [CommandOption("--type <TYPE>")]
        [Description("The task type, i.e. its stream: 'token' appends text; 'progress' counts progress_idx up to progress_total.")]
        [DefaultValue("token")]
        public string Type { get; init; } = "token";

        [CommandOption("--tokens <N>")]
        [Description("Number of updates.")]
        [DefaultValue(20)]
        public int Tokens { get; init; } = 20;

        [CommandOption("--rate <PER_SECOND>")]
        [Description("Updates per second; 0 = as fast as the server answers.")]
        [DefaultValue(10.0)]
        public double Rate { get; init; } = 10;

        [CommandOption("--workflow <NAME>")]
        [Description("The workflow name of a new execution.")]
        public string? Workflow { get; init; }

        public override ValidationResult Validate() =>
            Tokens < 0 ? ValidationResult.Error("--tokens must be 0 or more.")
            : Rate < 0 || double.IsNaN(Rate) ? ValidationResult.Error("--rate must be 0 or more.")
            : string.IsNullOrWhiteSpace(Type) ? ValidationResult.Error("--type must not be empty.")
            : ValidationResult.Success();
    }

    /// <summary>The text the i-th update (1-based) appends to a token task.</summary>
    public static string Token(int i) => Words[(i - 1) % Words.Length];

    protected override async Task<int> ExecuteAsync(CommandContext commandContext, Settings settings, CancellationToken cancellationToken)
    {
        using var api = context.Connect(settings);
        if (api is null)
        {
            return ExitCodes.Usage;
        }

        var exec = settings.Exec ?? "cli-" + Guid.CreateVersion7().ToString("N")[..20];
        var progress = settings.Type == "progress";
        string? taskId = null;
        try
        {
            var workflowContext = new JsonObject { ["workflow_exec_id"] = exec };
            if (settings.Workflow is not null)
            {
                workflowContext["workflow_name"] = settings.Workflow;
            }

            var created = await api.PostJsonAsync("v1/tasks", new JsonObject
            {
                ["type"] = settings.Type,
                ["state"] = progress ? new JsonObject { ["progress_idx"] = 0, ["progress_total"] = settings.Tokens } : new JsonObject { ["text"] = string.Empty },
                ["workflow_context"] = workflowContext,
            }, cancellationToken);
            taskId = JsonRead.String(created, "task_id") ?? throw new HttpRequestException("POST /v1/tasks answered without a task_id.");
            context.Out.WriteLine($"workflow_exec_id {JsonRead.String(created, "workflow_exec_id") ?? exec}");
            context.Out.WriteLine($"task_id {taskId}");
            Published(created, "CUSTOM_TASK_STARTED", string.Empty);
            context.Error.WriteLine($"follow it with: se tail {exec} --url {api.BaseAddress}");

            var clock = Stopwatch.StartNew();
            for (var i = 1; i <= settings.Tokens; i++)
            {
                if (settings.Rate > 0 && TimeSpan.FromSeconds((i - 1) / settings.Rate) - clock.Elapsed is { Ticks: > 0 } wait)
                {
                    await Task.Delay(wait, cancellationToken);
                }

                var (operation, shown) = progress
                    ? (new JsonObject { ["op"] = "replace", ["path"] = "/progress_idx", ["value"] = i }, $"{i}/{settings.Tokens}")
                    : (new JsonObject { ["op"] = "append", ["path"] = "/text", ["value"] = Token(i) }, JsonRead.Quote(Token(i)));
                var updated = await api.PostJsonAsync($"v1/tasks/{Uri.EscapeDataString(taskId)}/state", new JsonObject { ["patch"] = new JsonArray(operation) }, cancellationToken);
                Published(updated, "CUSTOM_TASK_IN_PROGRESS", shown);
            }

            var completed = await api.PostJsonAsync($"v1/tasks/{Uri.EscapeDataString(taskId)}/complete", new JsonObject(), cancellationToken);
            Published(completed, "CUSTOM_TASK_COMPLETED", progress ? $"{settings.Tokens}/{settings.Tokens}" : JsonRead.Quote(Text(settings.Tokens)));
            return ExitCodes.Success;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (taskId is not null)
            {
                await CancelAsync(api, taskId);
            }

            return ExitCodes.Interrupted;
        }
        catch (ApiProblemException error)
        {
            return CommandErrors.Report(context, error);
        }
        catch (HttpRequestException error)
        {
            return CommandErrors.Report(context, api.BaseAddress, error);
        }
    }

    /// <summary>The whole text of a token task after <paramref name="tokens"/> updates.</summary>
    public static string Text(int tokens) => string.Concat(Enumerable.Range(1, tokens).Select(Token));

    private void Published(JsonElement answer, string eventType, string shown)
    {
        var sequence = JsonRead.Int64(answer, "broker_sequence")?.ToString(CultureInfo.InvariantCulture) ?? "?";
        context.Out.WriteLine(shown.Length == 0 ? $"{sequence} {eventType}" : $"{sequence} {eventType} {shown}");
    }

    /// <summary>Interrupted: the task ends as CUSTOM_TASK_CANCELED rather than open until it times out.</summary>
    private async Task CancelAsync(ApiClient api, string taskId)
    {
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var canceled = await api.PostJsonAsync($"v1/tasks/{Uri.EscapeDataString(taskId)}/cancel", new JsonObject { ["reason"] = "interrupted (se publish)" }, bound.Token);
            Published(canceled, "CUSTOM_TASK_CANCELED", "interrupted");
        }
        catch (Exception exception) when (exception is HttpRequestException or ApiProblemException or OperationCanceledException)
        {
            context.Error.WriteLine($"warning: could not cancel task {taskId}: {exception.Message}");
        }
    }
}
