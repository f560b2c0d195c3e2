using StreamingEvents.Storage.Postgres;

namespace StreamingEvents.Silo;

/// <summary><c>migrate</c>: applies the PostgreSQL schema (idempotent) and exits — the Kubernetes init Job runs this.</summary>
internal static class Migration
{
    public static async Task<int> RunAsync(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(StreamingEventsSiloBuilderExtensions.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync("migrate needs ConnectionStrings:StreamingEvents (or the environment variable ConnectionStrings__StreamingEvents).");
            return 2;
        }

        await PostgresSchema.ApplyAsync(connectionString);
        await Console.Out.WriteLineAsync($"Applied {PostgresSchema.Scripts.Count} schema scripts: {string.Join(", ", PostgresSchema.Scripts.Select(s => s.Name))}.");
        return 0;
    }
}
