using System.Globalization;
using Dragonfly.Common.Http1;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Storage;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Supernode.Download;

/// <summary>
/// What the download port answers to one request, decided before a byte is sent: the status, the <c>Content-Range</c>,
/// and for 200/206 the open data file with the byte range to send. The reply owns <see cref="File"/>.
/// </summary>
internal sealed class CdnFileReply : IDisposable
{
    internal CdnFileReply(int status, bool matchedRoute, bool acceptRanges, string? contentRange, SafeFileHandle? file, long start, long count)
    {
        Status = status;
        MatchedRoute = matchedRoute;
        AcceptRanges = acceptRanges;
        ContentRange = contentRange;
        File = file;
        Start = start;
        Count = count;
    }

    public int Status { get; }

    /// <summary>False when the path is not <c>/download/&lt;3&gt;/&lt;taskId&gt;</c> at all (metrics: <c>unmatched</c>).</summary>
    public bool MatchedRoute { get; }

    public bool AcceptRanges { get; }

    public string? ContentRange { get; }

    /// <summary>The data file, open for offset reads, when the reply has content (200, 206).</summary>
    public SafeFileHandle? File { get; }

    public long Start { get; }

    /// <summary>The content length: the body's byte count for 200/206 (sent for GET, declared for HEAD), else 0.</summary>
    public long Count { get; }

    public static CdnFileReply Error(int status, bool matchedRoute = true, bool acceptRanges = false, string? contentRange = null) =>
        new(status, matchedRoute, acceptRanges, contentRange, null, 0, 0);

    public void Dispose() => File?.Dispose();
}

/// <summary>
/// Decides the download port's reply (§2.1, decision §0.4; replaces the original image's nginx): <c>GET|HEAD
/// /download/&lt;taskId[0:3]&gt;/&lt;taskId&gt;</c> serves the wrapped CDN file with HTTP Range.
/// <list type="bullet">
/// <item>The shard must equal <c>taskId[0:3]</c> and the id must be 64 lowercase hex, else 404; unknown, failed or deleted tasks: 404.</item>
/// <item>Another method on that path: 405.</item>
/// <item>No (or unparsable / multi-) Range: 200 with the whole file, only once the file is complete (404 before).</item>
/// <item>Single Range on a complete file: RFC semantics (206 with <c>Content-Range: bytes s-e/len</c>, end clamped to the
/// file, 416 with <c>bytes */len</c> when the start is beyond it).</item>
/// <item>Single Range while the CDN is still writing: only the contiguous prefix of completely written pieces is
/// readable; a range must lie inside it (206 with <c>Content-Range: bytes s-e/*</c>), else 416 <c>bytes */&lt;readable&gt;</c>.
/// A piece being written is therefore never served short.</item>
/// </list>
/// </summary>
internal sealed class CdnFileReplies(ICdnFileAvailability availability, IPieceStore store)
{
    /// <summary>The route, as the request metrics label it.</summary>
    public const string Route = "/download/{shard}/{taskId}";

    public async ValueTask<CdnFileReply> DecideAsync(RequestHead request, CancellationToken cancellationToken)
    {
        if (request.Path.Split('/') is not ["", "download", { Length: > 0 } shard, { Length: > 0 } text])
        {
            return CdnFileReply.Error(404, matchedRoute: false);
        }

        if (!TaskId.TryParse(text, out var taskId) || !string.Equals(taskId.Value, text, StringComparison.Ordinal)
            || !string.Equals(shard, taskId.Shard, StringComparison.Ordinal))
        {
            return CdnFileReply.Error(404);
        }

        if (request.Method is not ("GET" or "HEAD"))
        {
            return CdnFileReply.Error(405);
        }

        if (await availability.GetViewAsync(taskId, cancellationToken) is not { } view)
        {
            return CdnFileReply.Error(404);
        }

        var length = view.ReadableLength;
        long start;
        long end;
        string? contentRange = null;
        int status;
        if (!ByteRange.TryParse(request.Range, out var range))
        {
            if (!view.Complete)
            {
                return CdnFileReply.Error(404, acceptRanges: true);
            }

            (start, end, status) = (0, length - 1, 200);
        }
        else
        {
            if (!TryResolve(range, length, view.Complete, out start, out end))
            {
                return CdnFileReply.Error(416, acceptRanges: true, contentRange: string.Create(CultureInfo.InvariantCulture, $"bytes */{length}"));
            }

            status = 206;
            contentRange = view.Complete
                ? string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{end}/{length}")
                : string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{end}/*");
        }

        var handle = store.OpenRead(taskId);
        if (handle is null || RandomAccess.GetLength(handle) < end + 1)
        {
            handle?.Dispose();
            return CdnFileReply.Error(404, acceptRanges: true);
        }

        return new CdnFileReply(status, true, true, contentRange, handle, start, end - start + 1);
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
