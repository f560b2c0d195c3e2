using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace StreamingEvents.Tests.Client;

public sealed class StreamingEventsClientOptionsValidatorTests
{
    private static readonly Dictionary<string, Action<StreamingEventsClientOptions>> BadSettings = new(StringComparer.Ordinal)
    {
        ["StreamingEvents:Client:SubscriptionBufferEvents"] = o => o.SubscriptionBufferEvents = 0,
        ["StreamingEvents:Client:SubscriptionBufferBytes"] = o => o.SubscriptionBufferBytes = StreamingLimits.MaxEventBytes - 1,
        ["StreamingEvents:Client:WildcardBufferBytes"] = o => o.WildcardBufferBytes = 0,
        ["StreamingEvents:Client:MaxExecutionsPerSubscription"] = o => o.MaxExecutionsPerSubscription = 0,
        ["StreamingEvents:Client:ReplayPageSize"] = o => o.ReplayPageSize = -1,
        ["StreamingEvents:Client:MaxPendingUpdates"] = o => o.MaxPendingUpdates = 0,
        ["StreamingEvents:Client:MaxPendingBytes"] = o => o.MaxPendingBytes = 1024,
        ["StreamingEvents:Client:MaxUpdatesPerCall"] = o => o.MaxUpdatesPerCall = 0,
        ["StreamingEvents:Client:MaxBytesPerCall"] = o => o.MaxBytesPerCall = 1024,
        ["StreamingEvents:Client:IdleProbeInterval"] = o => o.IdleProbeInterval = TimeSpan.Zero,
        ["StreamingEvents:Client:DiscoveryInterval"] = o => o.DiscoveryInterval = TimeSpan.FromSeconds(-1),
        ["StreamingEvents:Client:PublishRetryBudget"] = o => o.PublishRetryBudget = TimeSpan.Zero,
        ["StreamingEvents:Client:PublishHedgeDelay"] = o => o.PublishHedgeDelay = TimeSpan.Zero,
        ["StreamingEvents:Client:JsonSerializerOptions"] = o => o.JsonSerializerOptions = null!,
    };

    public static TheoryData<string> Settings => [.. BadSettings.Keys];

    [Fact]
    public void The_defaults_are_valid()
    {
        var result = new StreamingEventsClientOptionsValidator().Validate(null, new StreamingEventsClientOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void Each_bad_setting_is_reported_by_its_configuration_path(string setting)
    {
        var options = new StreamingEventsClientOptions();
        BadSettings[setting](options);

        var result = new StreamingEventsClientOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.StartsWith(setting + " must ", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void The_client_refuses_bad_options_when_they_are_first_used()
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddStreamingEventsClient(o => o.SubscriptionBufferBytes = 1)
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StreamingEventsClientOptions>>().Value);
        Assert.Contains("StreamingEvents:Client:SubscriptionBufferBytes must be at least 1048576", error.Message, StringComparison.Ordinal);
    }
}
