using System.Runtime.CompilerServices;

namespace StreamingEvents.Activities;

/// <summary>
/// A stand-in for a language model: deterministic text (the same seed gives the same tokens), emitted at a fixed rate.
/// </summary>
public static class SimulatedLlm
{
    private static readonly string[] Words =
    [
        "Streams", "carry", "state", "from", "workflow", "activities", "to", "live", "interfaces", "in", "order", "with",
        "every", "event", "numbered", "once", "and", "never", "reused", "so", "a", "reader", "can", "always", "resume",
        "exactly", "where", "it", "left", "off", "after", "any", "disconnect", "or", "restart", "of", "the", "service",
    ];

    /// <summary>The tokens of a response: <paramref name="count"/> tokens, the same for the same <paramref name="seed"/>.</summary>
    public static IEnumerable<string> Tokens(int count, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var word = Words[random.Next(Words.Length)];
            var text = i == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : " " + word;
            yield return i % 13 == 12 ? text + "." : text;
        }
    }

    /// <summary>The tokens, paced at <paramref name="tokensPerSecond"/> on <paramref name="time"/>.</summary>
    public static async IAsyncEnumerable<string> StreamAsync(int count, int seed, double tokensPerSecond, TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var interval = TimeSpan.FromSeconds(1 / tokensPerSecond);
        var start = time.GetTimestamp();
        var index = 0;
        foreach (var token in Tokens(count, seed))
        {
            // Paced against the start, so slow publishing does not stretch the whole response.
            var due = interval * index++ - time.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, time, cancellationToken);
            }

            yield return token;
        }
    }
}
