using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StreamingEvents.Frontend.Http;

namespace StreamingEvents.Frontend.Security;

/// <summary>Authentication, scope policies and per-key rate limits.</summary>
internal static class SecurityHostingExtensions
{
    public const string PublishPolicy = "publish";
    public const string SubscribePolicy = "subscribe";
    public const string AdminPolicy = "admin";
    public const string PublishRateLimit = "publish";

    public static IServiceCollection AddStreamingEventsSecurity(this IServiceCollection services)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<StreamTokens>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(PublishPolicy, policy => policy.RequireClaim(ApiKeyAuthentication.ScopeClaim, Scopes.Publish))
            .AddPolicy(SubscribePolicy, policy => policy.RequireClaim(ApiKeyAuthentication.ScopeClaim, Scopes.Subscribe))
            .AddPolicy(AdminPolicy, policy => policy.RequireClaim(ApiKeyAuthentication.ScopeClaim, Scopes.Admin));
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(PublishRateLimit, context =>
            {
                var auth = context.RequestServices.GetRequiredService<IOptionsMonitor<AuthOptions>>().CurrentValue;
                return RateLimitPartition.GetTokenBucketLimiter(Tenancy.KeyId(context), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = auth.PublishBurst,
                    TokensPerPeriod = auth.PublishPermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                rejected.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await ProblemMapping.WriteAsync(rejected.HttpContext, new ApiProblemException(StatusCodes.Status429TooManyRequests, "rate_limited",
                    $"This API key publishes faster than its limit; retry after {retryAfter} s."));
            };
        });
        services.AddHostedService<LoopbackGuard>();
        return services;
    }
}
