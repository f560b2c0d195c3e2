namespace StreamingEvents.Cli;

/// <summary>The tool's exit codes (also listed in <c>se --help</c>).</summary>
internal static class ExitCodes
{
    /// <summary>Done: the count or completion was reached, or Ctrl+C.</summary>
    public const int Success = 0;

    /// <summary>The server could not be used (network, unexpected answer) or a server error that retrying will not fix.</summary>
    public const int Failure = 1;

    /// <summary>The server refused the request (a 4xx problem, e.g. 410 Gone for an expired position).</summary>
    public const int Refused = 2;

    /// <summary>The stream reported <c>position_expired</c> after it started: the reader fell behind retention.</summary>
    public const int PositionExpired = 3;

    /// <summary>The ordering guarantee was broken: a gap in, or a step back of, broker_sequence.</summary>
    public const int OrderingViolated = 4;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 64;

    /// <summary>Interrupted (Ctrl+C) where that is not a normal end.</summary>
    public const int Interrupted = 130;
}
