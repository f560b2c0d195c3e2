using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamingEvents.Cli.Tail;

namespace StreamingEvents.Cli.Commands;

/// <summary><c>se tail &lt;workflow_exec_id&gt;</c>: follows an execution's events over SSE, resuming by itself.</summary>
internal sealed class TailCommand(CliContext context) : AsyncCommand<TailCommand.Settings>
{
    internal sealed class Settings : ServerSettings
    {
        [CommandArgument(0, "<workflow_exec_id>")]
        [Description("The execution to follow.")]
        public string ExecId { get; init; } = string.Empty;

        [CommandOption("--from <POSITION>")]
        [Description("First broker_sequence to print (inclusive); 0 = everything retained (default); 'live' = only events after the current head.")]
        [DefaultValue("0")]
        public string From { get; init; } = "0";

        [CommandOption("--stream <TOPIC>")]
        [Description("Only this topic (e.g. token, progress).")]
        public string? Stream { get; init; }

        [CommandOption("--json")]
        [Description("Print each event's envelope JSON exactly as received, one per line (JSON lines).")]
        public bool Json { get; init; }

        [CommandOption("--count <N>")]
        [Description("Stop after N events (exit 0).")]
        public long? Count { get; init; }

        [CommandOption("--until-complete")]
        [Description("Stop once every task seen has its terminal event (COMPLETED, FAILED, CANCELED, TIMED_OUT).")]
        public bool UntilComplete { get; init; }

        [CommandOption("--idle-timeout <SECONDS>")]
        [Description("Reconnect when nothing, not even a heartbeat, arrived for this long.")]
        [DefaultValue(60.0)]
        public double IdleTimeoutSeconds { get; init; } = 60;

        /// <summary>The start: a sequence, or null for <c>live</c>.</summary>
        public long? StartSequence => From.Equals("live", StringComparison.OrdinalIgnoreCase) ? null : long.Parse(From, NumberStyles.None, CultureInfo.InvariantCulture);

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(ExecId))
            {
                return ValidationResult.Error("The workflow_exec_id must not be empty.");
            }

            if (!From.Equals("live", StringComparison.OrdinalIgnoreCase) && !long.TryParse(From, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return ValidationResult.Error($"--from is a broker_sequence (0 or more) or 'live', not '{From}'.");
            }

            if (Count is < 1)
            {
                return ValidationResult.Error("--count must be at least 1.");
            }

            return IdleTimeoutSeconds is > 0 and <= 3600
                ? ValidationResult.Success()
                : ValidationResult.Error("--idle-timeout is between 0 and 3600 seconds.");
        }
    }

    protected override async Task<int> ExecuteAsync(CommandContext commandContext, Settings settings, CancellationToken cancellationToken)
    {
        using var api = context.Connect(settings);
        if (api is null)
        {
            return ExitCodes.Usage;
        }

        var options = new TailOptions(settings.ExecId, settings.StartSequence, settings.Stream, settings.Json, settings.Count, settings.UntilComplete,
            TimeSpan.FromSeconds(settings.IdleTimeoutSeconds));
        return await new TailSession(api, context, options).RunAsync(cancellationToken);
    }
}
