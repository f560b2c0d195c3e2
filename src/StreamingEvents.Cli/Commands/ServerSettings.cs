using System.ComponentModel;
using Spectre.Console.Cli;

namespace StreamingEvents.Cli.Commands;

/// <summary>The options every command has: which server to talk to, and with which key.</summary>
internal class ServerSettings : CommandSettings
{
    [CommandOption("--url <URL>")]
    [Description("The service's base URL (default: $STREAMING_EVENTS_URL, else http://127.0.0.1:5000).")]
    public string? Url { get; init; }

    [CommandOption("--api-key <KEY>")]
    [Description("An API key, sent as 'Authorization: Bearer' (default: $STREAMING_EVENTS_API_KEY; none on a loopback server without keys).")]
    public string? ApiKey { get; init; }
}
