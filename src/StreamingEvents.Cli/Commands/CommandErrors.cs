using StreamingEvents.Cli.Http;

namespace StreamingEvents.Cli.Commands;

/// <summary>How the commands report the failures they share, on stderr, and the exit code each one means.</summary>
internal static class CommandErrors
{
    /// <summary>A problem answer: 4xx → <see cref="ExitCodes.Refused"/>, anything else → <see cref="ExitCodes.Failure"/>.</summary>
    public static int Report(CliContext context, ApiProblemException error)
    {
        context.Error.WriteLine($"error: {error.Request} was {(error.Problem.IsPermanent ? "refused" : "not served")}: {error.Problem.Describe()}");
        return error.Problem.IsPermanent ? ExitCodes.Refused : ExitCodes.Failure;
    }

    /// <summary>The server could not be reached or did not answer.</summary>
    public static int Report(CliContext context, Uri server, Exception error)
    {
        context.Error.WriteLine($"error: cannot reach {server}: {error.Message}");
        return ExitCodes.Failure;
    }
}
