using Dragonfly.Supernode.Hosting;
using Dragonfly.Supernode.Metrics;

namespace Dragonfly.Supernode.Api;

/// <summary>Counts requests and their durations per route template (<c>handler</c> label = the documented path).</summary>
internal sealed class RequestMetricsMiddleware(RequestDelegate next, SupernodeApiMetrics metrics, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var start = time.GetTimestamp();
        var failed = false;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            var endpoint = context.GetEndpoint();
            var handler = endpoint?.Metadata.GetMetadata<ApiRouteMetadata>()?.DocumentedPath
                          ?? (endpoint as RouteEndpoint)?.RoutePattern.RawText
                          ?? SupernodeApiMetrics.UnmatchedHandler;
            metrics.RecordRequest(
                handler,
                failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode,
                time.GetElapsedTime(start).TotalSeconds,
                context.Request.ContentLength,
                context.Response.ContentLength);
        }
    }
}
