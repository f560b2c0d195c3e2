using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using StreamingEvents.Frontend.Http;

namespace StreamingEvents.Frontend.Security;

/// <summary>
/// Authenticates a request by its API key: <c>Authorization: Bearer KEY</c> (what Mistral's SDKs send for their
/// <c>apiKey</c>) or <c>X-API-Key: KEY</c>; on the SSE routes, also by a stream token as <c>?access_token=TOKEN</c> (a
/// browser's EventSource cannot set headers; see <see cref="StreamTokens"/>). A key in a query string is refused unless
/// <see cref="AuthOptions.AllowKeysInQueryString"/>. In development mode (no key configured) every request is a local
/// developer with every scope in every namespace.
/// </summary>
internal sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> schemes,
    IOptionsMonitor<AuthOptions> auth,
    StreamTokens tokens,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ScopeClaim = "scope";
    public const string NamespaceClaim = "namespace";
    public const string KeyIdClaim = "key_id";

    /// <summary>The one execution (<c>workflow_exec_id</c>) a stream token reaches; absent for a key.</summary>
    public const string ExecutionClaim = "execution";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var options = auth.CurrentValue;
        if (!options.Enabled)
        {
            return Task.FromResult(Success("development", [Scopes.Admin, Scopes.Publish, Scopes.Subscribe], ["*"]));
        }

        var (presented, inQuery) = PresentedKey();
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (inQuery && presented.StartsWith(StreamTokens.Prefix, StringComparison.Ordinal))
        {
            return Task.FromResult(AuthenticateToken(presented));
        }

        if (inQuery && !options.AllowKeysInQueryString)
        {
            return Task.FromResult(AuthenticateResult.Fail(
                "API keys are not accepted in a URL (access_token): send the key in a header, or mint a stream token with POST /v1/stream-tokens for a browser's EventSource."));
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        foreach (var key in options.Keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, Convert.FromHexString(key.Sha256)))
            {
                var scopes = key.Scopes.Contains(Scopes.Admin) ? [Scopes.Admin, Scopes.Publish, Scopes.Subscribe] : key.Scopes;
                return Task.FromResult(Success(key.Id, scopes, key.Namespaces));
            }
        }

        return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        await WriteProblemAsync(new ApiProblemException(StatusCodes.Status401Unauthorized, "unauthorized",
            failure ?? "A valid API key is required: send 'Authorization: Bearer <key>' (or X-API-Key; a stream token as access_token on the SSE routes)."));
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(new ApiProblemException(StatusCodes.Status403Forbidden, "forbidden", "The API key lacks the scope this request needs."));

    private Task WriteProblemAsync(ApiProblemException problem) => ProblemMapping.WriteAsync(Context, problem);

    private (string? Value, bool InQuery) PresentedKey()
    {
        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return (authorization["Bearer ".Length..].Trim(), false);
        }

        if (Request.Headers["X-API-Key"] is { Count: > 0 } header)
        {
            return (header[0], false);
        }

        return HttpMethods.IsGet(Request.Method) && Request.Query["access_token"] is { Count: > 0 } token ? (token[0], true) : (null, false);
    }

    /// <summary>A stream token: subscribe only, its one namespace and execution, on the SSE routes only.</summary>
    private AuthenticateResult AuthenticateToken(string presented)
    {
        if (Context.GetEndpoint()?.Metadata.GetMetadata<AcceptsStreamTokens>() is null)
        {
            return AuthenticateResult.Fail("A stream token is accepted on the SSE routes only.");
        }

        var (token, refusal) = tokens.Validate(presented);
        if (token is null)
        {
            return AuthenticateResult.Fail(refusal!);
        }

        var claims = new List<Claim>
        {
            new(KeyIdClaim, "token:" + token.KeyId),
            new(ScopeClaim, Scopes.Subscribe),
            new(NamespaceClaim, token.Namespace),
            new(ExecutionClaim, token.WorkflowExecId),
        };
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }

    private static AuthenticateResult Success(string keyId, IEnumerable<string> scopes, IEnumerable<string> namespaces)
    {
        var claims = new List<Claim> { new(KeyIdClaim, keyId) };
        claims.AddRange(scopes.Select(s => new Claim(ScopeClaim, s)));
        claims.AddRange(namespaces.Select(n => new Claim(NamespaceClaim, n)));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }
}
