using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace StreamingEvents.Cluster.Tests.Faults;

/// <summary>
/// What a fault run leaves as evidence beyond the test's own checks: the errors PostgreSQL logged (its log file, read
/// through the server) and the StreamingEvents warnings of every silo process, killed ones included.
/// </summary>
public static class FaultDiagnostics
{
    public static async Task<string> DescribeAsync(ProcessCluster cluster)
    {
        var text = new StringBuilder();
        text.AppendLine("===== PostgreSQL errors (server.log)");
        try
        {
            await using var connection = new NpgsqlConnection(cluster.Postgres.ConnectionString());
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT pg_read_file('server.log')", connection);
            var log = (string)(await command.ExecuteScalarAsync())!;
            AppendGrouped(text, log.Split('\n').Where(l => l.Contains("ERROR:", StringComparison.Ordinal) || l.Contains("FATAL:", StringComparison.Ordinal)));
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
        {
            text.AppendLine($"(could not read it: {exception.Message})");
        }

        foreach (var silo in cluster.SilosByPort.Values)
        {
            text.AppendLine($"===== StreamingEvents warnings of {silo.Name} (exited: {silo.HasExited})");
            var lines = silo.Output.Split('\n');
            AppendGrouped(text, lines.Select((line, i) => (line, i))
                .Where(x => x.line.Contains(": StreamingEvents", StringComparison.Ordinal) && (x.line.StartsWith("warn", StringComparison.Ordinal) || x.line.StartsWith("fail", StringComparison.Ordinal)))
                .Select(x => x.line.Trim() + " " + string.Join(" ", lines.Skip(x.i + 1).Take(2).Select(l => l.Trim()))));
        }

        return text.ToString();
    }

    /// <summary>Each distinct line (numbers and ids blurred) once, with its count: a long run's log stays readable.</summary>
    private static void AppendGrouped(StringBuilder text, IEnumerable<string> lines)
    {
        foreach (var group in lines.GroupBy(Blur).OrderByDescending(g => g.Count()).Take(30))
        {
            var example = group.First();
            text.AppendLine($"x{group.Count()}: {(example.Length > 600 ? example[..600] : example)}");
        }
    }

    private static string Blur(string line) => Regex.Replace(line, "[0-9a-f]{6,}|[0-9]+", "#");
}
