using System.Collections.Concurrent;

namespace StreamingEvents.IntegrationTests.Infrastructure;

/// <summary>
/// Keeps the grain object each call was made on, by grain key, so that a test can look at what an activation holds in
/// memory (bounds that have no other outside effect). Add it with <see cref="Install"/>.
/// </summary>
internal sealed class GrainInstances : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, object> Instances = new(StringComparer.Ordinal);

    public static void Install(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter<GrainInstances>();

    /// <summary>The latest activation called with <paramref name="key"/>, as <typeparamref name="T"/>.</summary>
    public static T Of<T>(string key) => (T)Instances[key];

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.TargetContext.GrainInstance is { } instance)
        {
            Instances[context.TargetId.Key.ToString()!] = instance;
        }

        await context.Invoke();
    }
}
