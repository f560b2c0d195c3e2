using System.Diagnostics;
using System.Text;

namespace StreamingEvents.Testing;

/// <summary>
/// A child process of the test (a silo, a worker) that runs a built project's dll with <c>dotnet</c>. Its output is kept
/// for diagnostics; <see cref="WaitForOutputAsync"/> awaits a line (readiness), <see cref="Kill"/> is <c>kill -9</c>.
/// </summary>
public sealed class ProcessHost : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waits = [];

    private ProcessHost(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>dotnet &lt;dll&gt; &lt;arguments&gt;</c> from the output folder of a project built in the same configuration.</summary>
    public static ProcessHost Start(string name, string projectName, IEnumerable<string> arguments)
    {
        var dll = BuiltDll(projectName);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var host = new ProcessHost(name, process);
        process.OutputDataReceived += (_, line) => host.OnLine(line.Data);
        process.ErrorDataReceived += (_, line) => host.OnLine(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Completes when the process printed a line containing <paramref name="text"/> (now or before).</summary>
    public Task WaitForOutputAsync(string text, TimeSpan bound)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_output.ToString().Contains(text, StringComparison.Ordinal))
            {
                return Task.CompletedTask;
            }

            _waits.Add((text, seen));
        }

        return seen.Task.WaitAsync(bound).ContinueWith(
            t => t.IsFaulted ? throw new TimeoutException($"{Name} did not print '{text}' within {bound}. Output:\n{Output}", t.Exception) : t,
            TaskScheduler.Default).Unwrap();
    }

    /// <summary><c>kill -9</c>: no shutdown, no flushing, sockets reset.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.AppendLine(line);
            foreach (var wait in _waits.Where(w => line.Contains(w.Text, StringComparison.Ordinal)).ToList())
            {
                wait.Seen.TrySetResult();
                _waits.Remove(wait);
            }
        }
    }

    private static string BuiltDll(string projectName)
    {
        // tests/<Project>/bin/<Configuration>/<tfm>/ → src/<projectName>/bin/<Configuration>/<tfm>/<projectName>.dll
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = output.Name;
        var configuration = output.Parent!.Name;
        var root = output.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(root, "src", projectName, "bin", configuration, framework, projectName + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is not built; build the solution first.", dll);
    }
}
