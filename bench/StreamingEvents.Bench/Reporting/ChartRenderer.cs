using ScottPlot;

namespace StreamingEvents.Bench.Reporting;

/// <summary>
/// chart.png: four panels — W1 publish→deliver percentiles per system; the W1 ladder (p99 publish→deliver against the
/// offered rate, with the 50 ms SLO); acknowledged events/s per system per workload; p99 publish→ack and
/// publish→deliver per system per workload. Value axes are logarithmic.
/// </summary>
internal static class ChartRenderer
{
    private static readonly Color[] Palette =
    [
        Colors.RoyalBlue, Colors.OrangeRed, Colors.SeaGreen, Colors.DarkOrange, Colors.MediumPurple, Colors.SaddleBrown, Colors.DeepPink, Colors.Gray,
    ];

    private static readonly string[] RateWorkloads = ["W1", "W2-hot", "W2-max", "W2-single", "W3", "W4", "W4-max", "W5"];

    public static void Render(BenchReport report, string path)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(4);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, 2);
        var plots = multiplot.GetPlots();
        W1Percentiles(plots[0], report);
        Ladder(plots[1], report);
        Grouped(plots[2], report, "Acknowledged events/s (log)", "achieved_rate");
        Grouped(plots[3], report, "p99 publish→deliver ms (log); W2-max/single, W4-max: p99 ack", "deliver_p99_ms", "ack_p99_ms");
        multiplot.SavePng(path, 1800, 1300);
    }

    private static void W1Percentiles(Plot plot, BenchReport report)
    {
        plot.Title("W1 chat (500 streams, 20k ev/s): publish→deliver ms (log)");
        var rows = report.Workloads.FirstOrDefault(w => w.Id == "W1")?.Rows ?? [];
        string[] figures = ["deliver_p50_ms", "deliver_p95_ms", "deliver_p99_ms", "deliver_p999_ms", "deliver_max_ms"];
        string[] labels = ["p50", "p95", "p99", "p99.9", "max"];
        var series = rows.Select(r => (r.System, Values: figures.Select(r.Median).ToArray())).ToList();
        AddGroupedBars(plot, labels, series);
        LogAxis(plot);
    }

    private static void Ladder(Plot plot, BenchReport report)
    {
        plot.Title("W1 ladder: p99 publish→deliver ms (log) vs offered events/s");
        var rows = report.Workloads.FirstOrDefault(w => w.Id == "W1-ladder")?.Rows ?? [];
        var i = 0;
        foreach (var system in rows.GroupBy(r => r.System))
        {
            var points = system.Select(r => (X: r.Median("offered_rate"), Y: r.Median("deliver_p99_ms"))).Where(p => p.Y > 0).OrderBy(p => p.X).ToList();
            if (points.Count == 0)
            {
                continue;
            }

            var scatter = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => Math.Log10(p.Y)).ToArray(), Palette[i++ % Palette.Length]);
            scatter.LegendText = system.Key;
            scatter.MarkerSize = 8;
        }

        var slo = plot.Add.HorizontalLine(Math.Log10(50), color: Colors.Red);
        slo.LinePattern = LinePattern.Dashed;
        slo.LegendText = "SLO 50 ms";
        LogAxis(plot);
        plot.Axes.Bottom.Label.Text = "offered events/s";
        plot.ShowLegend(Alignment.UpperLeft);
    }

    private static void Grouped(Plot plot, BenchReport report, string title, string figure, string? fallback = null)
    {
        plot.Title(title);
        var workloads = report.Workloads.Where(w => RateWorkloads.Contains(w.Id)).ToList();
        var systems = workloads.SelectMany(w => w.Rows.Where(r => r.Variant.Length == 0).Select(r => r.System)).Distinct().ToList();
        var series = systems.Select(system => (system, workloads.Select(w =>
        {
            var row = w.Rows.FirstOrDefault(r => r.System == system && r.Variant.Length == 0);
            var value = row?.Median(figure) ?? double.NaN;
            return double.IsNaN(value) && fallback is not null && row is not null ? row.Median(fallback) : value;
        }).ToArray())).ToList();
        AddGroupedBars(plot, [.. workloads.Select(w => w.Id)], series);
        LogAxis(plot);
    }

    private static void AddGroupedBars(Plot plot, string[] groups, List<(string System, double[] Values)> series)
    {
        var width = 0.8 / Math.Max(1, series.Count);
        for (var s = 0; s < series.Count; s++)
        {
            var color = Palette[s % Palette.Length];
            var bars = new List<Bar>();
            for (var g = 0; g < groups.Length; g++)
            {
                var value = series[s].Values[g];
                if (double.IsNaN(value) || value <= 0)
                {
                    continue;
                }

                bars.Add(new Bar
                {
                    Position = g - 0.4 + (width * (s + 0.5)),
                    Value = Math.Log10(value),
                    ValueBase = Math.Log10(Math.Max(1e-3, series.SelectMany(x => x.Values).Where(v => v > 0).DefaultIfEmpty(1).Min()) / 2),
                    FillColor = color,
                    Size = width * 0.95,
                });
            }

            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].System, FillColor = color });
        }

        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, groups.Length).Select(g => (double)g)], groups);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.ShowLegend(Alignment.UpperRight);
    }

    private static void LogAxis(Plot plot)
    {
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => FormatPower(Math.Pow(10, y)),
        };
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.15);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(0.05);
    }

    private static string FormatPower(double value) => value switch
    {
        >= 1e6 => $"{value / 1e6:0.#}M",
        >= 1e3 => $"{value / 1e3:0.#}k",
        >= 1 => $"{value:0.#}",
        _ => $"{value:0.###}",
    };
}
