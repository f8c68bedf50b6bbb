using System.Buffers;
using System.Globalization;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Download;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The supernode download port (§2.1, decision §0.4; replaces the original image's nginx): <c>GET|HEAD
/// /download/&lt;taskId[0:3]&gt;/&lt;taskId&gt;</c> serves the wrapped CDN file with HTTP Range.
/// <list type="bullet">
/// <item>The shard must equal <c>taskId[0:3]</c> and the id must be 64 lowercase hex, else 404; unknown, failed or deleted tasks: 404.</item>
/// <item>No (or unparsable / multi-) Range: 200 with the whole file, only once the file is complete (404 before).</item>
/// <item>Single Range on a complete file: RFC semantics (206 with <c>Content-Range: bytes s-e/len</c>, end clamped to the
/// file, 416 with <c>bytes */len</c> when the start is beyond it).</item>
/// <item>Single Range while the CDN is still writing: only the contiguous prefix of completely written pieces is
/// readable; a range must lie inside it (206 with <c>Content-Range: bytes s-e/*</c>), else 416 <c>bytes */&lt;readable&gt;</c>.
/// A piece being written is therefore never served short.</item>
/// </list>
/// Bytes served are counted in <c>dragonfly_supernode_download_port_bytes_total</c>.
/// </summary>
public static class CdnFileEndpoints
{
    public const string Pattern = "/download/{shard}/{taskId}";
    private const int CopyBufferSize = 128 * 1024;

    /// <summary>
    /// Maps the download routes. Host wiring: listen on <see cref="CdnOptions.DownloadPort"/> as a second Kestrel endpoint
    /// and either call <c>.RequireHost("*:8001")</c> on the returned builder or pass <paramref name="localPort"/>, which
    /// answers 404 on any other local port (robust when clients send an unexpected Host header).
    /// </summary>
    public static IEndpointConventionBuilder MapCdnDownloads(this IEndpointRouteBuilder endpoints, int? localPort = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapMethods(Pattern, [HttpMethods.Get, HttpMethods.Head], context => ServeAsync(context, localPort))
            .WithName("CdnDownload")
            .WithDisplayName("CDN download port");
    }

    private static async Task ServeAsync(HttpContext context, int? localPort)
    {
        var request = context.Request;
        var response = context.Response;
        var cancellationToken = context.RequestAborted;
        if (localPort is { } port && context.Connection.LocalPort != port)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var shard = request.RouteValues["shard"] as string;
        var text = request.RouteValues["taskId"] as string;
        if (!TaskId.TryParse(text, out var taskId) || !string.Equals(taskId.Value, text, StringComparison.Ordinal)
            || !string.Equals(shard, taskId.Shard, StringComparison.Ordinal))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var services = context.RequestServices;
        var view = await services.GetRequiredService<ICdnFileAvailability>().GetViewAsync(taskId, cancellationToken);
        if (view is not { } file)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var length = file.ReadableLength;
        long start;
        long end;
        response.Headers.AcceptRanges = "bytes";
        if (!ByteRange.TryParse(request.Headers.Range.Count == 1 ? request.Headers.Range.ToString() : null, out var range))
        {
            if (!file.Complete)
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            (start, end) = (0, length - 1);
            response.StatusCode = StatusCodes.Status200OK;
        }
        else
        {
            if (!TryResolve(range, length, file.Complete, out start, out end))
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{length}");
                return;
            }

            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = file.Complete
                ? string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{end}/{length}")
                : string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{end}/*");
        }

        var count = end - start + 1;
        var store = services.GetRequiredService<IPieceStore>();
        using var handle = store.OpenRead(taskId);
        if (handle is null || RandomAccess.GetLength(handle) < end + 1)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.Headers.ContentRange = default;
            return;
        }

        response.ContentType = "application/octet-stream";
        response.ContentLength = count;
        if (HttpMethods.IsHead(request.Method))
        {
            return;
        }

        var metrics = services.GetRequiredService<CdnMetrics>();
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(CopyBufferSize, Math.Max(count, 1)));
        var sent = 0L;
        try
        {
            while (sent < count)
            {
                var want = (int)Math.Min(buffer.Length, count - sent);
                var read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, want), start + sent, cancellationToken);
                if (read == 0)
                {
                    // The file shrank under us (deleted by GC or a re-download): never send a short body as complete.
                    context.Abort();
                    return;
                }

                await response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                sent += read;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            metrics.DownloadPortBytes.Add(sent);
        }
    }

    private static bool TryResolve(ByteRange range, long length, bool complete, out long start, out long end)
    {
        start = end = 0;
        if (range.IsSuffix)
        {
            var suffix = range.End!.Value;
            if (!complete || suffix == 0 || length == 0)
            {
                return false;
            }

            start = Math.Max(0, length - suffix);
            end = length - 1;
            return true;
        }

        start = range.Start!.Value;
        if (start >= length)
        {
            return false;
        }

        if (range.End is not { } requestedEnd)
        {
            end = length - 1;
            return complete;
        }

        if (requestedEnd >= length && !complete)
        {
            return false;
        }

        end = Math.Min(requestedEnd, length - 1);
        return true;
    }
}
