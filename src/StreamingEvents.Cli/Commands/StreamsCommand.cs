using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamingEvents.Cli.Http;

namespace StreamingEvents.Cli.Commands;

/// <summary><c>se streams</c>: recent executions from <c>GET /v1/streams</c>, newest first, as a table.</summary>
internal sealed class StreamsCommand(CliContext context, IAnsiConsole console) : AsyncCommand<StreamsCommand.Settings>
{
    internal sealed class Settings : ServerSettings
    {
        [CommandOption("--limit <N>")]
        [Description("How many executions (1–500).")]
        [DefaultValue(50)]
        public int Limit { get; init; } = 50;

        [CommandOption("--workflow <NAME>")]
        [Description("Only executions of this workflow.")]
        public string? Workflow { get; init; }

        public override ValidationResult Validate() =>
            Limit is >= 1 and <= 500 ? ValidationResult.Success() : ValidationResult.Error("--limit is between 1 and 500.");
    }

    protected override async Task<int> ExecuteAsync(CommandContext commandContext, Settings settings, CancellationToken cancellationToken)
    {
        using var api = context.Connect(settings);
        if (api is null)
        {
            return ExitCodes.Usage;
        }

        JsonElement answer;
        try
        {
            var query = "v1/streams?limit=" + settings.Limit.ToString(CultureInfo.InvariantCulture)
                + (settings.Workflow is null ? string.Empty : "&workflow_name=" + Uri.EscapeDataString(settings.Workflow));
            answer = await api.GetJsonAsync(query, cancellationToken) ?? default;
        }
        catch (ApiProblemException error)
        {
            return CommandErrors.Report(context, error);
        }
        catch (HttpRequestException error)
        {
            return CommandErrors.Report(context, api.BaseAddress, error);
        }

        var streams = JsonRead.Property(answer, "streams");
        if (streams.ValueKind != JsonValueKind.Array || streams.GetArrayLength() == 0)
        {
            context.Error.WriteLine("no executions yet");
            return ExitCodes.Success;
        }

        var table = new Table().Border(TableBorder.None).AddColumns(
            Column("EXEC ID"), Column("WORKFLOW"), Column("HEAD", right: true), Column("OLDEST RETAINED", right: true),
            Column("TASKS OPEN/TOTAL", right: true), Column("LAST EVENT"));
        foreach (var stream in streams.EnumerateArray())
        {
            table.AddRow(
                Markup.Escape(JsonRead.String(stream, "workflow_exec_id") ?? "?"),
                Markup.Escape(JsonRead.String(stream, "workflow_name") ?? string.Empty),
                Number(stream, "head"),
                Number(stream, "oldest_retained"),
                $"{Number(stream, "open_tasks")}/{Number(stream, "task_count")}",
                LastEvent(JsonRead.String(stream, "last_event_at")));
        }

        console.Write(table);
        return ExitCodes.Success;
    }

    private static TableColumn Column(string header, bool right = false)
    {
        var column = new TableColumn(header).PadLeft(0).PadRight(3);
        return right ? column.RightAligned() : column;
    }

    private static string Number(JsonElement stream, string name) => JsonRead.Int64(stream, name)?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string LastEvent(string? timestamp) =>
        DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time)
            ? time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : "-";
}
