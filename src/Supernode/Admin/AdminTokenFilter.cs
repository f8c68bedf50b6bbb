using System.Globalization;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Durations;
using Dragonfly.Supernode.Api;

namespace Dragonfly.Supernode.Admin;

/// <summary>
/// Guards a management route (<see cref="AdminAccessExtensions.RequireAccess"/>): runs before the handler reads anything,
/// and answers a request without the admin token in the API's error format (<c>{"code","message"}</c>): 401 with
/// <c>WWW-Authenticate: Bearer realm="dragonfly-supernode"</c> when no bearer token is given, 403 when it is not the admin
/// token, and 429 with <c>Retry-After</c>, without looking at the token, while the client is locked out after too many
/// wrong ones (<see cref="AdminLockouts"/>). The route's access comes from its <see cref="RouteAccessMetadata"/>; an
/// endpoint without it is treated as <see cref="RouteAccess.Manage"/> (closed, not open, when someone forgets). Routes the
/// policy leaves open are never refused nor throttled. Refusals are counted (<see cref="AdminMetrics"/>) and logged a
/// bounded number of times (<see cref="AdminRefusalLog"/>); the token is never logged.
/// </summary>
internal sealed class AdminTokenFilter(
    AdminAccessPolicy policy, AdminLockouts lockouts, AdminRefusalLog refusals, AdminMetrics metrics, ILogger<AdminTokenFilter> logger) : IEndpointFilter
{
    public const string Realm = "dragonfly-supernode";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var access = http.GetEndpoint()?.Metadata.GetMetadata<RouteAccessMetadata>()?.Access ?? RouteAccess.Manage;
        if (!policy.Protects(access))
        {
            return next(context);
        }

        var client = ClientAddress.Of(http.Connection.RemoteIpAddress);
        if (lockouts.IsLockedOut(client, out var remaining))
        {
            var seconds = (long)Math.Ceiling(Math.Max(remaining.TotalSeconds, 1));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return Refuse(http, client, StatusCodes.Status429TooManyRequests,
                $"too many wrong admin tokens from this address: the management routes refuse it for {seconds} more seconds");
        }

        switch (policy.Check(access, http.Request.Headers.Authorization))
        {
            case AdminCheck.Allowed:
                lockouts.Succeeded(client);
                return next(context);
            case AdminCheck.Unauthenticated:
                http.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{Realm}\"";
                return Refuse(http, client, StatusCodes.Status401Unauthorized,
                    "this route needs the supernode's admin token: send Authorization: Bearer <token>");
            default:
                if (lockouts.Failed(client) is { } lockout)
                {
                    LogLockout(lockout);
                }

                return Refuse(http, client, StatusCodes.Status403Forbidden, "the bearer token is not the supernode's admin token");
        }
    }

    private ValueTask<object?> Refuse(HttpContext http, ClientAddress client, int status, string message)
    {
        metrics.Refused(status);
        refusals.Refused(http.Request.Method, http.Request.Path, http.Connection.RemoteIpAddress, client, status);
        return ValueTask.FromResult<object?>(ApiJson.Json(new ErrorResponse { Code = status, Message = message }, status));
    }

    private void LogLockout(AdminLockout lockout)
    {
        metrics.LockedOut();
        var options = lockouts.Options;
        var duration = GoDuration.Format(options.Lockout);
        var window = GoDuration.Format(options.FailureWindow);
        if (lockout.Shared)
        {
            AdminLog.LockedOutShared(logger, lockouts.Capacity, duration, options.MaxFailures, window, lockout.Client.ToString());
        }
        else
        {
            AdminLog.LockedOut(logger, lockout.Client.ToString(), duration, options.MaxFailures, window);
        }
    }
}
