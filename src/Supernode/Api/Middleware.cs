using Dragonfly.Supernode.Hosting;
using Dragonfly.Supernode.Metrics;

namespace Dragonfly.Supernode.Api;

/// <summary>Marks the CDN download endpoints: served only on the download port.</summary>
public sealed class DownloadPortEndpointMetadata
{
    public static DownloadPortEndpointMetadata Instance { get; } = new();
}

/// <summary>
/// Keeps the two ports apart (§2.1): on the download port only the CDN download endpoints answer; on the API port those
/// endpoints do not exist. Works with port 0 because it compares with the ports in <see cref="SupernodeRuntime"/>.
/// </summary>
internal sealed class DownloadPortGate(RequestDelegate next, SupernodeRuntime runtime)
{
    public Task InvokeAsync(HttpContext context)
    {
        var localPort = context.Connection.LocalPort;
        var onDownloadPort = localPort != 0 && localPort == runtime.DownloadPort;
        var isDownloadEndpoint = context.GetEndpoint()?.Metadata.GetMetadata<DownloadPortEndpointMetadata>() is not null;
        if (onDownloadPort && !isDownloadEndpoint)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (!onDownloadPort && isDownloadEndpoint)
        {
            context.SetEndpoint(null);
        }

        return next(context);
    }
}

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
                          ?? "unmatched";
            metrics.RecordRequest(
                handler,
                failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode,
                time.GetElapsedTime(start).TotalSeconds,
                context.Request.ContentLength,
                context.Response.ContentLength);
        }
    }
}
