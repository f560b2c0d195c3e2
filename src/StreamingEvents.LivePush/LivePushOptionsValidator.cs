using Microsoft.Extensions.Options;

namespace StreamingEvents.LivePush;

/// <summary>Checks <see cref="LivePushOptions"/> and names every setting to fix.</summary>
internal sealed class LivePushOptionsValidator(string section) : IValidateOptions<LivePushOptions>
{
    public ValidateOptionsResult Validate(string? name, LivePushOptions options)
    {
        var failures = new List<string>();
        if (options.QueueCount is < 1 or > 256)
        {
            failures.Add($"{section}:QueueCount must be between 1 and 256 (is {options.QueueCount}).");
        }

        if (options.MaxQueuedBytes < StreamingLimits.MaxEventBytes)
        {
            failures.Add($"{section}:MaxQueuedBytes must be at least {StreamingLimits.MaxEventBytes} (one largest event), is {options.MaxQueuedBytes}.");
        }

        if (options.MaxCacheBytes < StreamingLimits.MaxEventBytes)
        {
            failures.Add($"{section}:MaxCacheBytes must be at least {StreamingLimits.MaxEventBytes} (one largest event), is {options.MaxCacheBytes}.");
        }

        Positive(options.CacheTime, "CacheTime");
        Positive(options.IdleWait, "IdleWait");
        Positive(options.RestartPeriod, "RestartPeriod");
        Positive(options.StreamInactivityPeriod, "StreamInactivityPeriod");
        if (options.MaxBatchesPerRead < 1)
        {
            failures.Add($"{section}:MaxBatchesPerRead must be positive (is {options.MaxBatchesPerRead}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(TimeSpan value, string setting)
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{section}:{setting} must be positive (is {value}).");
            }
        }
    }
}
