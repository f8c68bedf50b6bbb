using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Models;
using Dragonfly.Supernode.Hosting;
using Dragonfly.Supernode.Metrics;

namespace Dragonfly.Supernode.Api;

/// <summary><c>/_ping</c>, <c>/version</c>, <c>/metrics</c> and the route listings.</summary>
internal static class SystemEndpoints
{
    public static Task<IResult> PingAsync(HttpContext context) => Task.FromResult<IResult>(TypedResults.Text("OK", "text/plain"));

    public static Task<IResult> VersionAsync(HttpContext context) =>
        Task.FromResult<IResult>(ApiJson.Json(SupernodeVersion.Current));

    public static Task<IResult> MetricsAsync(HttpContext context) =>
        Task.FromResult<IResult>(TypedResults.Text(
            context.RequestServices.GetRequiredService<PrometheusExporter>().Render(),
            "text/plain; version=0.0.4; charset=utf-8"));

    public static Func<HttpContext, Task<IResult>> Listing(ApiCategory category) => _ =>
    {
        var listing = new RouteListing
        {
            Api = SupernodeRoutes.All
                .Where(r => r.Category == category)
                .Select(r => new RouteInfo { Method = r.Method, Path = r.DocumentedPath })
                .ToList(),
            Category = category == ApiCategory.Legacy ? "legacy api" : "v1 api",
            Prefix = category == ApiCategory.Legacy ? string.Empty : SupernodeRoutes.V1Prefix,
        };
        return Task.FromResult<IResult>(ApiJson.Json(listing));
    };
}
