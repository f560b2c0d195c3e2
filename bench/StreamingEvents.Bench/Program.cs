using System.Globalization;
using StreamingEvents.Bench;

// dotnet run -c Release --project bench/StreamingEvents.Bench [-- --full] [--only=W1,W8] [--repeats=N] [--gcdump]
var profile = (args.Contains("--full") ? BenchProfile.Full : BenchProfile.Quick) with { GcDumps = args.Contains("--gcdump") };
if (Option("--repeats=") is { } repeats)
{
    var n = int.Parse(repeats, CultureInfo.InvariantCulture);
    profile = profile with { Repeats = n, RepeatsD1 = Math.Min(n, profile.RepeatsD1), Reductions = [.. profile.Reductions, $"Repeats overridden: {n}."] };
}

var only = Option("--only=") is { } filter ? filter.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase) : null;
return await BenchRunner.RunAsync(profile, only);

string? Option(string prefix) => args.FirstOrDefault(a => a.StartsWith(prefix, StringComparison.Ordinal)) is { } arg ? arg[prefix.Length..] : null;
