using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace StreamingEvents.Deploy.Tests.Infrastructure;

internal sealed record ToolResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() =>
        $"`{Command}` exited with {ExitCode}.{Environment.NewLine}stdout:{Environment.NewLine}{StandardOutput}{Environment.NewLine}stderr:{Environment.NewLine}{StandardError}";
}

/// <summary>Runs a command-line tool (kubectl, yamllint) to completion, with a bound on time.</summary>
internal static class Tool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static readonly Dictionary<string, string> InstallHints = new(StringComparer.Ordinal)
    {
        ["yamllint"] = "yamllint is not installed: run ./eng/test.sh, which installs it, or `apt-get install -y yamllint`.",
        ["kubectl"] = "kubectl is not installed: it comes with the project's machine image (apt package kubectl); "
            + "Debian's kubernetes-client (1.20) is too old for Kustomize components.",
    };

    public static async Task<ToolResult> RunAsync(string fileName, IReadOnlyList<string> arguments, string? standardInput = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = standardInput is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repository.Root,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var command = $"{fileName} {string.Join(' ', arguments)}";
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException(InstallHints.GetValueOrDefault(fileName, $"{fileName} is not installed.") + $" ({exception.Message})", exception);
        }

        using var timeout = new CancellationTokenSource(Timeout);
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput.AsMemory(), timeout.Token);
            process.StandardInput.Close();
        }

        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{command}` did not finish within {Timeout}.");
        }

        return new ToolResult(command, process.ExitCode, await output, await error);
    }
}
