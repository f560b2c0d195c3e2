using System.Globalization;

namespace StreamingEvents.Bench.Infrastructure;

/// <summary>Reads the frontend's <c>/metrics</c> (Prometheus text format): samples by metric name.</summary>
internal static class PrometheusText
{
    public static async Task<List<(string Name, string Labels, double Value)>> ScrapeAsync(HttpClient http, Uri baseAddress)
    {
        var text = await http.GetStringAsync(new Uri(baseAddress, "metrics"));
        var samples = new List<(string, string, double)>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.LastIndexOf(' ');
            var nameEnd = brace >= 0 ? brace : line.IndexOf(' ', StringComparison.Ordinal);
            if (nameEnd <= 0 || space <= nameEnd)
            {
                continue;
            }

            var labels = brace >= 0 ? line[(brace + 1)..line.IndexOf('}', brace)] : string.Empty;
            var valueText = line[(line.IndexOf(' ', brace >= 0 ? line.IndexOf('}', brace) : nameEnd) + 1)..].Split(' ')[0];
            if (double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                samples.Add((line[..nameEnd], labels, value));
            }
        }

        return samples;
    }

    public static double Sum(IEnumerable<(string Name, string Labels, double Value)> samples, string name) =>
        samples.Where(s => s.Name == name).Sum(s => s.Value);
}
