using StreamingEvents.Bench.Infrastructure;

namespace StreamingEvents.Bench.Reporting;

/// <summary>Everything one harness run produced; serialized whole to results.json and rendered to results.md and chart.png.</summary>
internal sealed class BenchReport
{
    public string StartedUtc { get; init; } = DateTime.UtcNow.ToString("O");

    public string Profile { get; init; } = "quick";

    public double DurationSeconds { get; set; }

    public Dictionary<string, string> Environment { get; } = [];

    public List<string> Methodology { get; } = [];

    public List<string> ProfileReductions { get; init; } = [];

    public List<WorkloadReport> Workloads { get; } = [];

    public List<TargetResult> Targets { get; } = [];

    /// <summary>Workloads or measurements that failed or could not be taken, and why.</summary>
    public List<string> Failures { get; } = [];

    /// <summary>Runs whose gaps, duplicates, out-of-order deliveries or acknowledgement mismatches were not 0.</summary>
    public List<string> CorrectnessFailures { get; } = [];

    public WorkloadReport Workload(string id, string title, string description)
    {
        var existing = Workloads.FirstOrDefault(w => w.Id == id);
        if (existing is not null)
        {
            return existing;
        }

        var workload = new WorkloadReport { Id = id, Title = title, Description = description };
        Workloads.Add(workload);
        return workload;
    }
}

/// <summary>One workload: a row per system (and variant), each with its repeats.</summary>
internal sealed class WorkloadReport
{
    public string Id { get; init; } = string.Empty;

    public string Title { get; init; } = string.Empty;

    public string Description { get; init; } = string.Empty;

    public List<string> Notes { get; } = [];

    /// <summary>The figures shown in results.md, in order (results.json has all of them).</summary>
    public List<string> Columns { get; set; } = [];

    public List<SystemResult> Rows { get; } = [];

    public SystemResult Row(string system, string durability, string variant = "")
    {
        var existing = Rows.FirstOrDefault(r => r.System == system && r.Variant == variant);
        if (existing is not null)
        {
            return existing;
        }

        var row = new SystemResult { System = system, Durability = durability, Variant = variant };
        Rows.Add(row);
        return row;
    }
}

/// <summary>One system's results in a workload: every repeat's figures and their median and spread.</summary>
internal sealed class SystemResult
{
    public string System { get; init; } = string.Empty;

    public string Durability { get; init; } = string.Empty;

    public string Variant { get; init; } = string.Empty;

    public List<Dictionary<string, double>> Runs { get; } = [];

    public List<string> Errors { get; } = [];

    /// <summary>pg_stat_statements of the last run's window (our system): where the database time went.</summary>
    public List<StatementStats>? Statements { get; set; }

    /// <summary>Per-second p99 publish→deliver of the last run (ms), for the chart and W7.</summary>
    public List<double>? DeliverP99BySecond { get; set; }

    public Dictionary<string, Spread> Summary => Runs.SelectMany(r => r.Keys).Distinct().ToDictionary(key => key, key => Spread.Of(
        Runs.Where(r => r.ContainsKey(key)).Select(r => r[key])));

    public double Median(string figure) => Summary.TryGetValue(figure, out var spread) ? spread.Median : double.NaN;
}

/// <summary>The median and the range of a figure over repeats.</summary>
internal sealed record Spread(double Median, double Min, double Max, int N)
{
    public static Spread Of(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToList();
        if (sorted.Count == 0)
        {
            return new Spread(double.NaN, double.NaN, double.NaN, 0);
        }

        var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        return new Spread(median, sorted[0], sorted[^1], sorted.Count);
    }
}

/// <summary>A target of the brief, the measured value and the ratio.</summary>
internal sealed record TargetResult(string Target, string Measured, double Ratio, bool Met, string Basis);
