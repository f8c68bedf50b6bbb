using Dragonfly.Common.Api.Models;
using Dragonfly.Supernode.Api;

namespace Dragonfly.Supernode.Admin;

/// <summary>
/// Guards a management route (<see cref="AdminAccessExtensions.RequireAccess"/>): runs before the handler reads anything,
/// and answers a request without the admin token in the API's error format (<c>{"code","message"}</c>): 401 with
/// <c>WWW-Authenticate: Bearer realm="dragonfly-supernode"</c> when no bearer token is given, 403 when it is not the admin
/// token. The route's access comes from its <see cref="RouteAccessMetadata"/>; an endpoint without it is treated as
/// <see cref="RouteAccess.Manage"/> (closed, not open, when someone forgets). The token is never logged.
/// </summary>
internal sealed class AdminTokenFilter(AdminAccessPolicy policy, ILogger<AdminTokenFilter> logger) : IEndpointFilter
{
    public const string Realm = "dragonfly-supernode";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var access = http.GetEndpoint()?.Metadata.GetMetadata<RouteAccessMetadata>()?.Access ?? RouteAccess.Manage;
        var check = policy.Check(access, http.Request.Headers.Authorization);
        if (check == AdminCheck.Allowed)
        {
            return next(context);
        }

        var remote = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (check == AdminCheck.Unauthenticated)
        {
            AdminLog.Refused(logger, http.Request.Method, http.Request.Path, remote, StatusCodes.Status401Unauthorized);
            http.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{Realm}\"";
            return ValueTask.FromResult<object?>(ApiJson.Json(
                new ErrorResponse
                {
                    Code = StatusCodes.Status401Unauthorized,
                    Message = "this route needs the supernode's admin token: send Authorization: Bearer <token>",
                },
                StatusCodes.Status401Unauthorized));
        }

        AdminLog.Refused(logger, http.Request.Method, http.Request.Path, remote, StatusCodes.Status403Forbidden);
        return ValueTask.FromResult<object?>(ApiJson.Json(
            new ErrorResponse { Code = StatusCodes.Status403Forbidden, Message = "the bearer token is not the supernode's admin token" },
            StatusCodes.Status403Forbidden));
    }
}
