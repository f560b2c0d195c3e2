using System.Text.Json;

namespace StreamingEvents.Bench.Load;

/// <summary>The state every system publishes: a counter and padding, serialized as <c>{"n":…,"p":"…"}</c>.</summary>
internal sealed record BenchState(long N, string P);

/// <summary>
/// Payloads of a given size: the same JSON bytes for every system. Our system is given the state object (the SDK
/// serializes it); the peers get <see cref="Serialize"/>'s bytes — the same serializer, so the load generator pays the
/// same serialization cost for each.
/// </summary>
internal sealed class PayloadFactory
{
    private readonly string _pad;

    public PayloadFactory(int bytes)
    {
        Bytes = bytes;
        var overhead = JsonSerializer.SerializeToUtf8Bytes(new BenchState(1_000_000, string.Empty), JsonDefaults.State).Length;
        // Letters and digits from a fixed seed: JSON-safe, and about as compressible as text (PostgreSQL compresses
        // bodies over 2 KB; a run of one character would make WAL and storage figures meaningless for W3/W4).
        var random = new Random(bytes);
        const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ";
        _pad = string.Create(Math.Max(0, bytes - overhead), random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = Alphabet[r.Next(Alphabet.Length)];
            }
        });
    }

    /// <summary>The payload size (for counters below 10^7, which every run stays under).</summary>
    public int Bytes { get; }

    public BenchState State(long n) => new(n, _pad);

    public static byte[] Serialize(BenchState state) => JsonSerializer.SerializeToUtf8Bytes(state, JsonDefaults.State);
}
