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
/// the path as the swagger writes it.
/// </summary>
public sealed record ApiRoute(string Method, string Path, ApiCategory Category, Func<HttpContext, Task<IResult>> Handler)
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

    public static IReadOnlyList<ApiRoute> All { get; } =
    [
        // legacy category (prefix "")
        new("GET", "/", ApiCategory.Legacy, SystemEndpoints.Listing(ApiCategory.Legacy)),
        new("GET", "/_ping", ApiCategory.Legacy, SystemEndpoints.PingAsync),
        new("GET", "/version", ApiCategory.Legacy, SystemEndpoints.VersionAsync),
        new("GET", "/metrics", ApiCategory.Legacy, SystemEndpoints.MetricsAsync),
        new("POST", "/task/metrics", ApiCategory.Legacy, LegacyEndpoints.TaskMetricsAsync),
        new("POST", "/peer/registry", ApiCategory.Legacy, LegacyEndpoints.RegisterAsync),
        new("GET", "/peer/task", ApiCategory.Legacy, LegacyEndpoints.PullAsync),
        new("GET", "/peer/piece/suc", ApiCategory.Legacy, LegacyEndpoints.PieceSuccessAsync),
        new("GET", "/peer/service/down", ApiCategory.Legacy, LegacyEndpoints.ServiceDownAsync),
        new("GET", "/peer/piece/error", ApiCategory.Legacy, LegacyEndpoints.PieceErrorAsync),
        new("POST", "/peer/heartbeat", ApiCategory.Legacy, LegacyEndpoints.EmptyObjectAsync),
        new("POST", "/peer/network", ApiCategory.Legacy, LegacyEndpoints.EmptyObjectAsync),
        new("GET", "/swarm", ApiCategory.Legacy, SwarmEndpoints.PageAsync),

        // v1 category (prefix /api/v1, also served at the root)
        new("GET", "/", ApiCategory.V1, SystemEndpoints.Listing(ApiCategory.V1)),
        new("POST", "/peers", ApiCategory.V1, PeerEndpoints.CreateAsync),
        new("GET", "/peers", ApiCategory.V1, PeerEndpoints.ListAsync),
        new("GET", "/peers/{id}", ApiCategory.V1, PeerEndpoints.GetAsync),
        new("DELETE", "/peers/{id}", ApiCategory.V1, PeerEndpoints.DeleteAsync),
        new("POST", "/tasks", ApiCategory.V1, TaskEndpoints.CreateAsync),
        new("GET", "/tasks", ApiCategory.V1, TaskEndpoints.ListAsync),
        new("GET", "/tasks/{id}", ApiCategory.V1, TaskEndpoints.GetAsync),
        new("PUT", "/tasks/{id}", ApiCategory.V1, TaskEndpoints.UpdateAsync),
        new("DELETE", "/tasks/{id}", ApiCategory.V1, TaskEndpoints.DeleteAsync),
        new("GET", "/tasks/{id}/swarm", ApiCategory.V1, SwarmEndpoints.GetAsync),
        new("GET", "/tasks/{id}/pieces", ApiCategory.V1, PieceEndpoints.PullAsync),
        new("PUT", "/tasks/{id}/pieces/{pieceRange}", ApiCategory.V1, PieceEndpoints.UpdateAsync),
        new("POST", "/tasks/{id}/pieces/{pieceRange}/error", ApiCategory.V1, PieceEndpoints.ReportErrorAsync),
        new("GET", "/tasks/{id}/pieces/{pieceRange}/error", ApiCategory.V1, PieceEndpoints.ReportErrorAsync),
        new("POST", "/preheats", ApiCategory.V1, PreheatEndpoints.CreateAsync),
        new("GET", "/preheats", ApiCategory.V1, PreheatEndpoints.ListAsync),
        new("GET", "/preheats/{id}", ApiCategory.V1, PreheatEndpoints.GetAsync),
        new("DELETE", "/preheats/{id}", ApiCategory.V1, PreheatEndpoints.DeleteAsync),
        new("POST", "/peer/heartbeat", ApiCategory.V1, LegacyEndpoints.EmptyObjectAsync),
        new("POST", "/peer/network", ApiCategory.V1, LegacyEndpoints.EmptyObjectAsync),
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
