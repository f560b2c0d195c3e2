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
/// <c>apiKey</c>), <c>X-API-Key: KEY</c>, or, for GET requests only, <c>?access_token=KEY</c> (a browser's EventSource
/// cannot set headers). In development mode (no key configured) every request is a local developer with every scope
/// in every namespace.
/// </summary>
internal sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> schemes,
    IOptionsMonitor<AuthOptions> auth,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ScopeClaim = "scope";
    public const string NamespaceClaim = "namespace";
    public const string KeyIdClaim = "key_id";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var options = auth.CurrentValue;
        if (!options.Enabled)
        {
            return Task.FromResult(Success("development", [Scopes.Admin, Scopes.Publish, Scopes.Subscribe], ["*"]));
        }

        var presented = PresentedKey();
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
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

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return WriteProblemAsync(new ApiProblemException(StatusCodes.Status401Unauthorized, "unauthorized",
            "A valid API key is required: send 'Authorization: Bearer <key>' (or X-API-Key; access_token on GET requests)."));
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(new ApiProblemException(StatusCodes.Status403Forbidden, "forbidden", "The API key lacks the scope this request needs."));

    private Task WriteProblemAsync(ApiProblemException problem) => ProblemMapping.WriteAsync(Context, problem);

    private string? PresentedKey()
    {
        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        if (Request.Headers["X-API-Key"] is { Count: > 0 } header)
        {
            return header[0];
        }

        return HttpMethods.IsGet(Request.Method) && Request.Query["access_token"] is { Count: > 0 } token ? token[0] : null;
    }

    private static AuthenticateResult Success(string keyId, IEnumerable<string> scopes, IEnumerable<string> namespaces)
    {
        var claims = new List<Claim> { new(KeyIdClaim, keyId) };
        claims.AddRange(scopes.Select(s => new Claim(ScopeClaim, s)));
        claims.AddRange(namespaces.Select(n => new Claim(NamespaceClaim, n)));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }
}
