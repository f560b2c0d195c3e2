using Microsoft.Extensions.Options;

namespace StreamingEvents;

/// <summary>Names every wrong setting of <see cref="StreamingEventsClientOptions"/> at once, when the options are first used.</summary>
internal sealed class StreamingEventsClientOptionsValidator : IValidateOptions<StreamingEventsClientOptions>
{
    public ValidateOptionsResult Validate(string? name, StreamingEventsClientOptions options)
    {
        const string S = StreamingEventsClientOptions.SectionName;
        var failures = new List<string>();
        Positive(options.SubscriptionBufferEvents, nameof(options.SubscriptionBufferEvents));
        Positive(options.MaxExecutionsPerSubscription, nameof(options.MaxExecutionsPerSubscription));
        Positive(options.ReplayPageSize, nameof(options.ReplayPageSize));
        Positive(options.MaxPendingUpdates, nameof(options.MaxPendingUpdates));
        Positive(options.MaxUpdatesPerCall, nameof(options.MaxUpdatesPerCall));

        // Each byte bound holds at least one largest event, or an event could never pass it.
        OneEvent(options.SubscriptionBufferBytes, nameof(options.SubscriptionBufferBytes));
        OneEvent(options.WildcardBufferBytes, nameof(options.WildcardBufferBytes));
        OneEvent(options.MaxPendingBytes, nameof(options.MaxPendingBytes));
        OneEvent(options.MaxBytesPerCall, nameof(options.MaxBytesPerCall));

        Duration(options.IdleProbeInterval, nameof(options.IdleProbeInterval));
        Duration(options.DiscoveryInterval, nameof(options.DiscoveryInterval));
        Duration(options.PublishRetryBudget, nameof(options.PublishRetryBudget));
        Duration(options.PublishHedgeDelay, nameof(options.PublishHedgeDelay));
        if (options.JsonSerializerOptions is null)
        {
            failures.Add($"{S}:JsonSerializerOptions must be set.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(long value, string setting)
        {
            if (value < 1)
            {
                failures.Add($"{S}:{setting} must be at least 1 (is {value}).");
            }
        }

        void OneEvent(long value, string setting)
        {
            if (value < StreamingLimits.MaxEventBytes)
            {
                failures.Add($"{S}:{setting} must be at least {StreamingLimits.MaxEventBytes} (one largest event), is {value}.");
            }
        }

        void Duration(TimeSpan value, string setting)
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{S}:{setting} must be positive (is {value}).");
            }
        }
    }
}
