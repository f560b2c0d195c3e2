using System.Diagnostics;
using System.Globalization;

namespace StreamingEvents.Bench.Infrastructure;

/// <summary>
/// CPU time and memory of processes from <c>/proc</c>. CPU is <c>utime + stime</c> (in clock ticks, 100 per second on
/// Linux); a process tree (PostgreSQL: the postmaster and its backends) adds the reaped children's times of the root
/// (<c>cutime + cstime</c>) and the live children's own times, so backends that exit in a window are still counted.
/// </summary>
internal static class ProcStats
{
    /// <summary>USER_HZ: the unit of the times in /proc/&lt;pid&gt;/stat.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>CPU seconds used so far by <paramref name="pid"/> (and, with <paramref name="tree"/>, its children).</summary>
    public static double CpuSeconds(int pid, bool tree = false)
    {
        var root = ReadStat(pid);
        if (root is null)
        {
            return 0;
        }

        long ticks = root.Value.UTime + root.Value.STime;
        if (tree)
        {
            ticks += root.Value.CUTime + root.Value.CSTime;
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var child) && child != pid
                    && ReadStat(child) is { } stat && stat.ParentId == pid)
                {
                    ticks += stat.UTime + stat.STime;
                }
            }
        }

        return ticks / TicksPerSecond;
    }

    /// <summary>Resident set size in bytes (VmRSS), 0 if the process is gone.</summary>
    public static long RssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>CPU seconds all cores of the machine spent busy so far (/proc/stat: everything but idle and iowait).</summary>
    public static double MachineBusySeconds()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // cpu user nice system idle iowait irq softirq steal ...
        long busy = 0;
        for (var i = 1; i < Math.Min(fields.Length, 9); i++)
        {
            if (i is not 4 and not 5)
            {
                busy += long.Parse(fields[i], CultureInfo.InvariantCulture);
            }
        }

        return busy / TicksPerSecond;
    }

    /// <summary>This process's CPU seconds (finer than clock ticks).</summary>
    public static double OwnCpuSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    private static Stat? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // The command name is in parentheses and may contain spaces: fields are counted after the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] = state (field 3), so field n is fields[n - 3].
        return new Stat(
            int.Parse(fields[1], CultureInfo.InvariantCulture),
            long.Parse(fields[11], CultureInfo.InvariantCulture),
            long.Parse(fields[12], CultureInfo.InvariantCulture),
            long.Parse(fields[13], CultureInfo.InvariantCulture),
            long.Parse(fields[14], CultureInfo.InvariantCulture));
    }

    private readonly record struct Stat(int ParentId, long UTime, long STime, long CUTime, long CSTime);
}

/// <summary>A process whose CPU the harness reports: one pid, or a tree rooted at it.</summary>
internal sealed record MonitoredProcess(string Name, Func<int> Pid, bool Tree = false)
{
    public double CpuSeconds() => ProcStats.CpuSeconds(Pid(), Tree);
}

/// <summary>CPU seconds of a set of processes (and of this one) at one moment; the difference of two is a window's use.</summary>
internal sealed class CpuSnapshot
{
    private CpuSnapshot(long timestamp, double own, double machine, Dictionary<string, double> processes)
    {
        Timestamp = timestamp;
        Own = own;
        Machine = machine;
        Processes = processes;
    }

    public double Machine { get; }

    public long Timestamp { get; }

    public double Own { get; }

    public Dictionary<string, double> Processes { get; }

    public static CpuSnapshot Take(IEnumerable<MonitoredProcess> processes) =>
        new(Stopwatch.GetTimestamp(), ProcStats.OwnCpuSeconds(), ProcStats.MachineBusySeconds(), processes.ToDictionary(p => p.Name, p => p.CpuSeconds()));

    /// <summary>CPU seconds used between <paramref name="before"/> and <paramref name="after"/> per process, and the wall seconds.</summary>
    public static CpuUse Between(CpuSnapshot before, CpuSnapshot after) => new(
        Stopwatch.GetElapsedTime(before.Timestamp, after.Timestamp).TotalSeconds,
        after.Own - before.Own,
        after.Machine - before.Machine,
        after.Processes.Where(p => before.Processes.ContainsKey(p.Key)).ToDictionary(p => p.Key, p => p.Value - before.Processes[p.Key]));
}

/// <summary>CPU used in a window: the load generator's own and each server process's, in CPU seconds.</summary>
internal sealed record CpuUse(double WallSeconds, double LoadGenerator, double Machine, Dictionary<string, double> Servers)
{
    /// <summary>Cores busy with anything else: other servers of the harness sitting idle, and whatever else shares the machine.</summary>
    public double OtherCores => WallSeconds > 0 ? (Machine - LoadGenerator - Servers.Values.Sum()) / WallSeconds : 0;

    public double MachineCores => WallSeconds > 0 ? Machine / WallSeconds : 0;

    /// <summary>The load generator's CPU as a fraction of one core.</summary>
    public double LoadGeneratorCores => WallSeconds > 0 ? LoadGenerator / WallSeconds : 0;

    public static double MicrosecondsPerEvent(double cpuSeconds, double events) => events > 0 ? cpuSeconds * 1e6 / events : double.NaN;
}
