using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StreamingEvents.Frontend.Http;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// A 503 says whether repeating the request is safe: a publish whose outcome is unknown may be stored, so only a POST
/// that carries an Idempotency-Key (or a GET) may simply be sent again.
/// </summary>
public sealed class RetryHintTests
{
    [Theory]
    [InlineData("POST", true, true)]
    [InlineData("POST", false, false)]
    [InlineData("GET", false, true)]
    public async Task A_503_says_whether_the_request_may_be_repeated(string method, bool withKey, bool retryable)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = method;
        context.Response.Body = new MemoryStream();
        if (withKey)
        {
            context.Request.Headers[IdempotencyKeys.Header] = "k1";
        }

        var mapping = new ProblemMapping(services.GetRequiredService<IProblemDetailsService>(), NullLogger<ProblemMapping>.Instance);
        await mapping.TryHandleAsync(context, new StorageUnavailableException("storage did not confirm"), CancellationToken.None);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        context.Response.Body.Position = 0;
        var problem = await JsonDocument.ParseAsync(context.Response.Body);
        Assert.Equal(retryable, problem.RootElement.GetProperty("retryable_with_key").GetBoolean());
        Assert.Equal("storage_unavailable", problem.RootElement.GetProperty("error_code").GetString());
    }
}
