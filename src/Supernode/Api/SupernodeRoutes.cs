using Dragonfly.Supernode.Admin;

namespace Dragonfly.Supernode.Api;

/// <summary>The two route categories of §1.1.</summary>
public enum ApiCategory
{
    /// <summary>Empty prefix; <c>{code,msg,data}</c> envelopes; the legacy error mapper.</summary>
    Legacy,

    /// <summary>Prefix <c>/api/v1</c> (also mounted at the root); REST statuses; the v1 error mapper.</summary>
    V1,
}

/// <summary>
/// One route of <c>apis/swagger.yml</c>. <see cref="Path"/> is relative to the category prefix; <see cref="DocumentedPath"/> is
/// the path as the swagger writes it. <see cref="Access"/> says whether the admin token guards it (at every mount point).
/// </summary>
public sealed record ApiRoute(string Method, string Path, ApiCategory Category, RouteAccess Access, Func<HttpContext, Task<IResult>> Handler)
{
    public string DocumentedPath => Category == ApiCategory.V1 ? SupernodeRoutes.V1Prefix + Path : Path;
}

/// <summary>Endpoint metadata naming the documented route an endpoint serves (used by the contract test and metrics).</summary>
public sealed record ApiRouteMetadata(string Method, string DocumentedPath, ApiCategory Category);

/// <summary>The route table: every path + method of <c>apis/swagger.yml</c>, and nothing else.</summary>
public static class SupernodeRoutes
{
    public const string V1Prefix = "/api/v1";

    /// <summary>Prefix of the versioned mount (<c>/v1.0/_ping</c>); the constraint admits <c>[0-9.]+</c>.</summary>
    public const string VersionPrefix = "/v{version:" + VersionRouteConstraint.Name + "}";

    /// <summary>
    /// The routes. The access column decides what the admin token guards (docs/cli/supernode.md, "Admin token"): every
    /// route a client calls (ours, dfdaemon's engine, an unmodified original dfget) is <see cref="RouteAccess.Open"/>, the
    /// read-only management views are <see cref="RouteAccess.View"/>, and every other write is
    /// <see cref="RouteAccess.Manage"/>. <c>AdminAccessTests</c> fails when a write route is open without being on its list
    /// of client routes.
    /// </summary>
    public static IReadOnlyList<ApiRoute> All { get; } =
    [
        // legacy category (prefix "")
        new("GET", "/", ApiCategory.Legacy, RouteAccess.Open, SystemEndpoints.Listing(ApiCategory.Legacy)),
        new("GET", "/_ping", ApiCategory.Legacy, RouteAccess.Open, SystemEndpoints.PingAsync),
        new("GET", "/version", ApiCategory.Legacy, RouteAccess.Open, SystemEndpoints.VersionAsync),
        new("GET", "/metrics", ApiCategory.Legacy, RouteAccess.Open, SystemEndpoints.MetricsAsync),
        new("POST", "/task/metrics", ApiCategory.Legacy, RouteAccess.Open, LegacyEndpoints.TaskMetricsAsync),
        new("POST", "/peer/registry", ApiCategory.Legacy, RouteAccess.Open, LegacyEndpoints.RegisterAsync),
        new("GET", "/peer/task", ApiCategory.Legacy, RouteAccess.Open, LegacyEndpoints.PullAsync),
        new("GET", "/peer/piece/suc", ApiCategory.Legacy, RouteAccess.Open, LegacyEndpoints.PieceSuccessAsync),
        new("GET", "/peer/service/down", ApiCategory.Legacy, RouteAccess.Open, LegacyEndpoints.ServiceDownAsync),
        new("GET", "/peer/piece/error", ApiCategory.Legacy, RouteAccess.Open, LegacyEndpoints.PieceErrorAsync),
        new("POST", "/peer/heartbeat", ApiCategory.Legacy, RouteAccess.Open, LegacyEndpoints.EmptyObjectAsync),
        new("POST", "/peer/network", ApiCategory.Legacy, RouteAccess.Open, LegacyEndpoints.EmptyObjectAsync),
        new("GET", "/swarm", ApiCategory.Legacy, RouteAccess.Open, SwarmEndpoints.PageAsync),

        // v1 category (prefix /api/v1, also served at the root)
        new("GET", "/", ApiCategory.V1, RouteAccess.Open, SystemEndpoints.Listing(ApiCategory.V1)),
        new("POST", "/peers", ApiCategory.V1, RouteAccess.Open, PeerEndpoints.CreateAsync),
        new("GET", "/peers", ApiCategory.V1, RouteAccess.View, PeerEndpoints.ListAsync),
        new("GET", "/peers/{id}", ApiCategory.V1, RouteAccess.View, PeerEndpoints.GetAsync),
        new("DELETE", "/peers/{id}", ApiCategory.V1, RouteAccess.Manage, PeerEndpoints.DeleteAsync),
        new("POST", "/tasks", ApiCategory.V1, RouteAccess.Open, TaskEndpoints.CreateAsync),
        new("GET", "/tasks", ApiCategory.V1, RouteAccess.View, TaskEndpoints.ListAsync),
        new("GET", "/tasks/{id}", ApiCategory.V1, RouteAccess.View, TaskEndpoints.GetAsync),
        new("PUT", "/tasks/{id}", ApiCategory.V1, RouteAccess.Manage, TaskEndpoints.UpdateAsync),
        new("DELETE", "/tasks/{id}", ApiCategory.V1, RouteAccess.Manage, TaskEndpoints.DeleteAsync),
        new("GET", "/tasks/{id}/swarm", ApiCategory.V1, RouteAccess.View, SwarmEndpoints.GetAsync),
        new("GET", "/tasks/{id}/pieces", ApiCategory.V1, RouteAccess.Open, PieceEndpoints.PullAsync),
        new("PUT", "/tasks/{id}/pieces/{pieceRange}", ApiCategory.V1, RouteAccess.Open, PieceEndpoints.UpdateAsync),
        new("POST", "/tasks/{id}/pieces/{pieceRange}/error", ApiCategory.V1, RouteAccess.Open, PieceEndpoints.ReportErrorAsync),
        new("GET", "/tasks/{id}/pieces/{pieceRange}/error", ApiCategory.V1, RouteAccess.Open, PieceEndpoints.ReportErrorAsync),
        new("POST", "/preheats", ApiCategory.V1, RouteAccess.Manage, PreheatEndpoints.CreateAsync),
        new("GET", "/preheats", ApiCategory.V1, RouteAccess.View, PreheatEndpoints.ListAsync),
        new("GET", "/preheats/{id}", ApiCategory.V1, RouteAccess.View, PreheatEndpoints.GetAsync),
        new("DELETE", "/preheats/{id}", ApiCategory.V1, RouteAccess.Manage, PreheatEndpoints.DeleteAsync),
        new("POST", "/peer/heartbeat", ApiCategory.V1, RouteAccess.Open, LegacyEndpoints.EmptyObjectAsync),
        new("POST", "/peer/network", ApiCategory.V1, RouteAccess.Open, LegacyEndpoints.EmptyObjectAsync),
    ];

    /// <summary>
    /// True when a v1 route is also mounted at the root. Not the listing (<c>/</c> is the legacy listing) and not the stubs
    /// whose root path is the legacy route of the same name.
    /// </summary>
    public static bool MountsAtRoot(ApiRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return route.Category == ApiCategory.V1 &&
               !All.Any(r => r.Category == ApiCategory.Legacy && r.Method == route.Method && r.Path == route.Path);
    }
}

/// <summary>Route constraint for the <c>/v{version}</c> mount: <c>[0-9.]+</c>.</summary>
public sealed class VersionRouteConstraint : IRouteConstraint
{
    public const string Name = "dfversion";

    public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.TryGetValue(routeKey, out var value) &&
               value is string { Length: > 0 } s &&
               s.All(c => char.IsAsciiDigit(c) || c == '.');
    }
}
