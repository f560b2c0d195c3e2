namespace StreamingEvents.Tests.Grains;

public sealed class StreamingEventsOptionsValidatorTests
{
    private static readonly Dictionary<string, Action<StreamingEventsOptions>> BadSettings = new(StringComparer.Ordinal)
    {
        ["StreamingEvents:Retention:MaxEvents"] = o => o.Retention.MaxEvents = 0,
        ["StreamingEvents:Retention:MaxBytes"] = o => o.Retention.MaxBytes = StreamingLimits.MaxEventBytes - 1,
        ["StreamingEvents:Retention:MaxAge"] = o => o.Retention.MaxAge = TimeSpan.Zero,
        ["StreamingEvents:MemoryWindowEvents"] = o => o.MemoryWindowEvents = -1,
        ["StreamingEvents:MemoryWindowBytes"] = o => o.MemoryWindowBytes = -1,
        ["StreamingEvents:TaskCacheBytes"] = o => o.TaskCacheBytes = -1,
        ["StreamingEvents:TaskInactivityTimeout"] = o => o.TaskInactivityTimeout = TimeSpan.FromSeconds(-1),
        ["StreamingEvents:MaintenanceInterval"] = o => o.MaintenanceInterval = TimeSpan.Zero,
        ["StreamingEvents:MaxEventsPerRead"] = o => o.MaxEventsPerRead = 0,
        ["StreamingEvents:MaxBytesPerRead"] = o => o.MaxBytesPerRead = 0,
        ["StreamingEvents:MaxEventsPerCommit"] = o => o.MaxEventsPerCommit = 0,
        ["StreamingEvents:MaxBytesPerCommit"] = o => o.MaxBytesPerCommit = 0,
        ["StreamingEvents:StreamProviderName"] = o => o.StreamProviderName = "  ",
    };

    public static TheoryData<string> Settings => [.. BadSettings.Keys];

    [Fact]
    public void The_defaults_are_valid()
    {
        var result = new StreamingEventsOptionsValidator().Validate(null, new StreamingEventsOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void The_smallest_accepted_values_are_valid()
    {
        var options = new StreamingEventsOptions
        {
            Retention = new RetentionOptions { MaxEvents = 1, MaxBytes = StreamingLimits.MaxEventBytes, MaxAge = TimeSpan.FromTicks(1) },
            MemoryWindowEvents = 0,
            MemoryWindowBytes = 0,
            TaskCacheBytes = 0,
            TaskInactivityTimeout = TimeSpan.FromTicks(1),
            MaintenanceInterval = TimeSpan.FromTicks(1),
            MaxEventsPerRead = 100_000,
            MaxBytesPerRead = 1,
            MaxEventsPerCommit = 1,
            MaxBytesPerCommit = 1,
            StreamProviderName = "p",
        };

        Assert.True(new StreamingEventsOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void Each_bad_setting_is_reported_by_its_configuration_path(string setting)
    {
        var options = new StreamingEventsOptions();
        BadSettings[setting](options);

        var result = new StreamingEventsOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith(setting + " must ", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_many_events_per_read_is_reported()
    {
        var result = new StreamingEventsOptionsValidator().Validate(null, new StreamingEventsOptions { MaxEventsPerRead = 100_001 });

        Assert.Contains("StreamingEvents:MaxEventsPerRead must be between 1 and 100000 (is 100001).", result.Failures!);
    }

    [Fact]
    public void The_failure_states_the_bad_value()
    {
        var options = new StreamingEventsOptions();
        options.Retention.MaxEvents = -5;

        var result = new StreamingEventsOptionsValidator().Validate(null, options);

        Assert.Equal("StreamingEvents:Retention:MaxEvents must be at least 1 (is -5).", Assert.Single(result.Failures!));
    }

    [Fact]
    public void Every_bad_setting_is_reported_at_once()
    {
        var options = new StreamingEventsOptions();
        foreach (var breakIt in BadSettings.Values)
        {
            breakIt(options);
        }

        var result = new StreamingEventsOptionsValidator().Validate(null, options);

        Assert.Equal(BadSettings.Count, result.Failures!.Count());
        Assert.All(BadSettings.Keys, setting => Assert.Contains(result.Failures!, f => f.StartsWith(setting + " must ", StringComparison.Ordinal)));
        Assert.All(BadSettings.Keys, setting => Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal));
    }
}
