namespace StreamingEvents.Testing;

/// <summary>
/// Where the PostgreSQL server binaries are: <c>PG_BIN</c>, or the newest <c>/usr/lib/postgresql/*/bin</c> holding
/// <c>initdb</c>. Shared by the tests and, as a linked source file, by the benchmark.
/// </summary>
internal static class PostgresBinaries
{
    public static string Find()
    {
        if (Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } configured)
        {
            return configured;
        }

        const string Root = "/usr/lib/postgresql";
        var found = Directory.Exists(Root)
            ? Directory.GetDirectories(Root).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException(
            "PostgreSQL server binaries were not found under /usr/lib/postgresql/*/bin; install the 'postgresql' Debian package or set PG_BIN.");
    }
}
