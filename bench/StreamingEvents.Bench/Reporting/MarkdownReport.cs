using System.Globalization;
using System.Text;

namespace StreamingEvents.Bench.Reporting;

/// <summary>results.md: environment and method, targets, correctness per run, then a table per workload (median and min–max over repeats).</summary>
internal static class MarkdownReport
{
    public static string Render(BenchReport report)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# StreamingEvents benchmark — {report.Profile} profile");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Started {report.StartedUtc}, took {report.DurationSeconds:0} s.");
        md.AppendLine();
        foreach (var (key, value) in report.Environment)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- **{key}**: {value}");
        }

        md.AppendLine();
        md.AppendLine("## Method");
        md.AppendLine();
        Bullets(md, report.Methodology);

        if (report.ProfileReductions.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("**This quick profile is shortened:**");
            md.AppendLine();
            Bullets(md, report.ProfileReductions);
        }

        md.AppendLine();
        md.AppendLine("## Targets");
        md.AppendLine();
        md.AppendLine("| target | measured | ratio (≥ 1 = met) | met | basis |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var target in report.Targets)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {target.Target} | {target.Measured} | {Format.Number(target.Ratio)} | {(target.Met ? "yes" : "**no**")} | {target.Basis} |");
        }

        md.AppendLine();
        md.AppendLine("## Correctness");
        md.AppendLine();
        md.AppendLine(report.CorrectnessFailures.Count == 0
            ? "Every run: 0 gaps, 0 duplicates, 0 out-of-order deliveries, 0 acknowledgement mismatches (per run in the tables' last column and in results.json)."
            : "**FAILED** — runs with non-zero counters:");
        Bullets(md, report.CorrectnessFailures);

        if (report.Failures.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Not measured / failed");
            md.AppendLine();
            Bullets(md, report.Failures);
        }

        foreach (var workload in report.Workloads)
        {
            RenderWorkload(md, workload);
        }

        return md.ToString();
    }

    private static void Bullets(StringBuilder md, IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {line}");
        }
    }

    private static void RenderWorkload(StringBuilder md, WorkloadReport workload)
    {
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## {workload.Title}");
        md.AppendLine();
        md.AppendLine(workload.Description);
        md.AppendLine();
        var columns = workload.Columns.Count > 0 ? workload.Columns : [.. workload.Rows.SelectMany(r => r.Summary.Keys).Distinct().Order().Take(12)];
        md.Append("| system | class | variant | runs |");
        foreach (var column in columns)
        {
            md.Append(CultureInfo.InvariantCulture, $" {ReportColumns.Headers.GetValueOrDefault(column, column)} |");
        }

        md.AppendLine();
        md.Append("|---|---|---|---|");
        md.AppendLine(string.Concat(columns.Select(_ => "---|")));
        foreach (var row in workload.Rows)
        {
            var summary = row.Summary;
            md.Append(CultureInfo.InvariantCulture, $"| {row.System} | {row.Durability} | {row.Variant} | {row.Runs.Count} |");
            foreach (var column in columns)
            {
                md.Append(CultureInfo.InvariantCulture, $" {Cell(row, summary, column)} |");
            }

            md.AppendLine();
        }

        md.AppendLine();
        md.AppendLine("Values: median over runs, (min–max) when there are several. Latencies in ms.");
        Bullets(md, workload.Notes);

        foreach (var row in workload.Rows.Where(r => r.Errors.Count > 0))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- Errors of {row.System} {row.Variant}: {string.Join("; ", row.Errors.Distinct().Take(5))}");
        }

        foreach (var row in workload.Rows.Where(r => r.Statements is { Count: > 0 } && r.Variant.Length == 0).Take(2))
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"<details><summary>{row.System}: pg_stat_statements of the last window</summary>");
            md.AppendLine();
            md.AppendLine("| statement | calls | rows | total exec ms | mean exec ms | plans | mean plan ms | WAL bytes |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var statement in row.Statements!)
            {
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| `{statement.Query.Replace("|", "\\|", StringComparison.Ordinal)}` | {statement.Calls:#,0} | {statement.Rows:#,0} | {statement.TotalMilliseconds:#,0} | {statement.MeanMilliseconds:0.000} | {statement.Plans:#,0} | {statement.MeanPlanMilliseconds:0.000} | {statement.WalBytes:#,0} |");
            }

            md.AppendLine();
            md.AppendLine("</details>");
        }
    }

    private static readonly string[] CorrectnessFigures = ["gaps", "duplicates", "out_of_order", "ack_mismatches"];

    private static string Cell(SystemResult row, Dictionary<string, Spread> summary, string column)
    {
        switch (column)
        {
            case ReportColumns.Cpu:
                return string.Join(", ", summary.Where(p => p.Key.StartsWith("cpu_us_per_event.", StringComparison.Ordinal))
                    .Select(p => $"{Short(p.Key["cpu_us_per_event.".Length..])} {Format.Number(p.Value.Median)}"));
            case ReportColumns.Correctness:
                return string.Join("/", CorrectnessFigures.Select(k => row.Runs.Sum(r => r.GetValueOrDefault(k)).ToString("0", CultureInfo.InvariantCulture)));
            case ReportColumns.Storage:
                var parts = new List<string>();
                if (summary.TryGetValue("commits_per_event", out var commits))
                {
                    parts.Add($"{Format.Number(commits.Median)} commits");
                }

                if (summary.TryGetValue("wal_bytes_per_event", out var wal))
                {
                    parts.Add($"{Format.Number(wal.Median)} B WAL");
                }

                if (summary.TryGetValue("events_per_append_statement", out var batch))
                {
                    parts.Add($"{Format.Number(batch.Median)} ev/append stmt");
                }

                if (summary.TryGetValue("aof_bytes_per_event", out var aof))
                {
                    parts.Add($"{Format.Number(aof.Median)} B AOF");
                }

                return parts.Count == 0 ? "–" : string.Join(", ", parts);
            default:
                if (!summary.TryGetValue(column, out var spread))
                {
                    return "–";
                }

                return spread.N > 1 && spread.Min != spread.Max
                    ? $"{Format.Number(spread.Median)} ({Format.Number(spread.Min)}–{Format.Number(spread.Max)})"
                    : Format.Number(spread.Median);
        }
    }

    private static string Short(string process) => process switch
    {
        "load_generator" => "generator",
        _ when process.StartsWith("redis-server", StringComparison.Ordinal) => "redis",
        _ => process,
    };
}
