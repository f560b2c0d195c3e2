using System.Security.Claims;
using StreamingEvents.Frontend.Http;

namespace StreamingEvents.Frontend.Security;

/// <summary>
/// Which namespace (tenant) a request acts in: the one it names (<c>namespace</c> query parameter or
/// <c>X-Namespace</c> header), if its key reaches it, else the key's first namespace (<c>default</c> for a key that reaches
/// every namespace). Another tenant's executions are therefore never addressed, listed or matched.
/// </summary>
internal static class Tenancy
{
    public static string Namespace(HttpContext context)
    {
        var allowed = context.User.FindAll(ApiKeyAuthentication.NamespaceClaim).Select(c => c.Value).ToList();
        var requested = context.Request.Query["namespace"].FirstOrDefault() ?? context.Request.Headers["X-Namespace"].FirstOrDefault();
        if (string.IsNullOrEmpty(requested))
        {
            return allowed.FirstOrDefault(n => n != "*") ?? WorkflowContext.DefaultNamespace;
        }

        if (!Names.IsValidNamespace(requested))
        {
            throw ApiProblemException.BadRequest("namespace", $"Invalid namespace: {Names.NamespaceRule}.");
        }

        return Reaches(context.User, requested)
            ? requested
            : throw new ApiProblemException(StatusCodes.Status403Forbidden, "forbidden", $"The API key does not reach namespace '{requested}'.", "namespace");
    }

    /// <summary>
    /// A stream token reaches one execution: a request for another, or for many (<paramref name="workflowExecId"/>
    /// <c>null</c>), is forbidden. Keys reach every execution of their namespaces.
    /// </summary>
    public static void RequireExecution(HttpContext context, string? workflowExecId)
    {
        if (context.User.FindFirst(ApiKeyAuthentication.ExecutionClaim)?.Value is { } allowed && allowed != workflowExecId)
        {
            throw new ApiProblemException(StatusCodes.Status403Forbidden, "forbidden",
                workflowExecId is null ? "A stream token reaches one execution: name it with workflow_exec_id." : "The stream token is for another execution.");
        }
    }

    /// <summary>Whether the caller reaches <paramref name="namespace"/>.</summary>
    public static bool Reaches(ClaimsPrincipal user, string @namespace) =>
        user.FindAll(ApiKeyAuthentication.NamespaceClaim).Any(c => c.Value == "*" || c.Value == @namespace);

    /// <summary>The rate-limit and connection-limit partition of the caller.</summary>
    public static string KeyId(HttpContext context) => context.User.FindFirst(ApiKeyAuthentication.KeyIdClaim)?.Value ?? "anonymous";
}
