using Microsoft.Extensions.Options;
using StreamingEvents.Frontend.Http;
using StreamingEvents.Frontend.Security;

namespace StreamingEvents.Frontend.Endpoints;

/// <summary>
/// Mints stream tokens: what a browser puts in an <c>EventSource</c> URL instead of an API key. Any key may mint one for
/// an execution in a namespace it reaches; the token only subscribes, to that execution, for minutes.
/// </summary>
internal static class StreamTokenEndpoints
{
    public static void Map(RouteGroupBuilder v1) =>
        v1.MapPost("/stream-tokens", MintAsync)
            .WithTags("Events")
            .RequireAuthorization()
            .WithName("CreateStreamToken")
            .WithSummary("A short-lived token that subscribes to one execution's events (access_token on the SSE routes), for browsers.")
            .Accepts<StreamTokenRequest>("application/json")
            .Produces<StreamTokenResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);

    private static async Task<IResult> MintAsync(HttpRequest request, StreamTokens tokens, IOptionsMonitor<AuthOptions> auth)
    {
        var body = await RequestJson.ReadObjectAsync(request);
        var lifetime = auth.CurrentValue.StreamTokenLifetime;
        var ttl = RequestJson.OptionalInt(body, "ttl_seconds", 1, (int)lifetime.TotalSeconds);
        ExecutionId execution;
        try
        {
            execution = new ExecutionId(Tenancy.Namespace(request.HttpContext), RequestJson.RequiredString(body, "workflow_exec_id"));
        }
        catch (InvalidIdentifierException error)
        {
            throw ApiProblemException.BadRequest("workflow_exec_id", error.Message);
        }

        var (token, expiresAt) = tokens.Mint(execution.Namespace, execution.WorkflowExecId,
            ttl is { } seconds ? TimeSpan.FromSeconds(seconds) : lifetime, Tenancy.KeyId(request.HttpContext));
        return TypedResults.Created((string?)null, new StreamTokenResponse(token, expiresAt, execution.Namespace, execution.WorkflowExecId));
    }
}
