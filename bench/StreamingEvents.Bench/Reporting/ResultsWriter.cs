using System.Text.Json;
using System.Text.Json.Serialization;

namespace StreamingEvents.Bench.Reporting;

/// <summary>Writes results.json (every figure), results.md and chart.png into the run's folder.</summary>
internal static class ResultsWriter
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static async Task<List<string>> WriteAsync(BenchReport report, string directory)
    {
        var problems = new List<string>();
        await File.WriteAllTextAsync(Path.Combine(directory, "results.json"), JsonSerializer.Serialize(report, Json));
        try
        {
            ChartRenderer.Render(report, Path.Combine(directory, "chart.png"));
        }
        catch (Exception exception)
        {
            problems.Add($"chart.png could not be drawn: {exception.GetBaseException().Message}");
            report.Failures.Add(problems[^1]);
        }

        await File.WriteAllTextAsync(Path.Combine(directory, "results.md"), MarkdownReport.Render(report));
        return problems;
    }
}
