using System.Buffers;
using System.Globalization;
using System.Net;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Pieces;
using Dragonfly.Common.Rates;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;

namespace Dragonfly.Dfget.Downloading;

/// <summary>Where and how a fetched piece is stored.</summary>
/// <param name="SourceLength">Source length, -1 when unknown (needed for raw ranges in source CDN pattern).</param>
public sealed record PieceFetchTarget(PieceFile File, long SourceLength, Rate MinRate, DownloadRateLimiter Limiter);

/// <summary>
/// Downloads one piece from an uploader (peer or supernode download port): <c>GET http://ip:port/path</c> with
/// <c>Range</c>, <c>pieceNum</c>, <c>pieceSize</c>; verifies the md5 of the whole wrapped body while it streams, checks the
/// head and tail, and writes the content straight to its offset. Nothing is buffered beyond one pooled chunk. The md5 runs
/// on the shared <see cref="Md5Batcher"/>, side by side with the other pieces in flight, while the chunk is written.
/// </summary>
public sealed class PieceFetcher(DfgetHttpClients clients, TimeProvider timeProvider, Md5Batcher md5Batcher)
{
    private const int ChunkSize = 512 * 1024;

    public async Task<PieceFetchResult> FetchAsync(PieceTask piece, PieceFetchTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(piece);
        ArgumentNullException.ThrowIfNull(target);
        var fromOrigin = Uri.TryCreate(piece.Path, UriKind.Absolute, out var originUri)
            && (originUri.Scheme == Uri.UriSchemeHttp || originUri.Scheme == Uri.UriSchemeHttps);
        if (!fromOrigin && !piece.Path.StartsWith('/'))
        {
            return new PieceFetchResult.Failed($"invalid piece path '{piece.Path}'");
        }

        // The holder's address comes from the supernode as text: one that is not a host and port (or that would make the
        // URL point somewhere else, as "10.0.0.1/x" would) is a failed piece, not a crash or a request to another host.
        Uri? peerUri = null;
        if (!fromOrigin && (piece.PeerPort is <= 0 or > 65535
            || !(IPAddress.TryParse(piece.PeerIp, out _) || Uri.CheckHostName(piece.PeerIp) == UriHostNameType.Dns)
            || !Uri.TryCreate($"http://{piece.PeerKey}{piece.Path}", UriKind.Absolute, out peerUri)
            || peerUri.Port != piece.PeerPort))
        {
            return new PieceFetchResult.Failed($"invalid piece holder address '{piece.PeerIp}' port {piece.PeerPort}");
        }

        if (piece.PieceSize <= PieceFrame.Overhead || piece.Range.Length != piece.PieceSize || piece.PieceNum < 0)
        {
            return new PieceFetchResult.Failed($"invalid piece {piece.PieceNum} range {piece.Range} size {piece.PieceSize}");
        }

        var contentOffset = PieceLayout.SourceOffset(piece.PieceNum, piece.PieceSize);
        var timeout = Engine.TimerLimits.FromSeconds(((double)piece.PieceSize / Math.Max(1, target.MinRate.BytesPerSecond)) + 10);
        using var timeoutCts = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        var token = linked.Token;
        var clock = new PieceClock(timeoutCts, timeout, target.Limiter, timeProvider);

        using var request = new HttpRequestMessage(HttpMethod.Get, fromOrigin ? originUri : peerUri);
        request.Headers.TryAddWithoutValidation("User-Agent", DfgetVersion.UserAgent);
        request.Headers.TryAddWithoutValidation("pieceNum", piece.PieceNum.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("pieceSize", piece.PieceSize.ToString(CultureInfo.InvariantCulture));
        int rawLength = -1;
        if (fromOrigin)
        {
            if (target.SourceLength < 0)
            {
                return new PieceFetchResult.Failed("source pattern needs a known file length");
            }

            rawLength = PieceLayout.ContentLength(piece.PieceNum, piece.PieceSize, target.SourceLength);
            if (rawLength <= 0)
            {
                return new PieceFetchResult.Failed($"piece {piece.PieceNum} is beyond the end of the file");
            }

            request.Headers.TryAddWithoutValidation("cdnSource", "source");
            request.Headers.TryAddWithoutValidation("Range", $"bytes={contentOffset}-{contentOffset + rawLength - 1}");
        }
        else
        {
            request.Headers.TryAddWithoutValidation("Range", piece.Range.ToHttpRange());
        }

        try
        {
            using var response = await clients.Peer.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new PieceFetchResult.NotFound($"piece {piece.PieceNum} not found at {piece.PeerKey}");
            }

            if (!response.IsSuccessStatusCode)
            {
                return new PieceFetchResult.Failed($"piece {piece.PieceNum} from {piece.PeerKey}: HTTP {(int)response.StatusCode}");
            }

            var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                return fromOrigin
                    ? await ReadRawAsync(body, piece, target, clock, contentOffset, rawLength, token).ConfigureAwait(false)
                    : await ReadWrappedAsync(body, piece, target, clock, contentOffset, md5Batcher.CreateStream(), token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new PieceFetchResult.Failed($"piece {piece.PieceNum} from {piece.PeerKey}: timeout after {timeout.TotalSeconds:F0}s");
        }
        catch (HttpRequestException e)
        {
            return new PieceFetchResult.Failed($"piece {piece.PieceNum} from {piece.PeerKey}: {e.Message}");
        }
        catch (IOException e)
        {
            return new PieceFetchResult.Failed($"piece {piece.PieceNum} from {piece.PeerKey}: {e.Message}");
        }
    }

    private static async Task<PieceFetchResult> ReadWrappedAsync(
        Stream body, PieceTask piece, PieceFetchTarget target, PieceClock clock, long contentOffset, BatchedMd5 md5, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            // Head: 4 bytes, content length in the low 24 bits.
            var headRead = await ReadAtLeastAsync(body, buffer.AsMemory(0, PieceFrame.HeadLength), cancellationToken).ConfigureAwait(false);
            if (headRead < PieceFrame.HeadLength)
            {
                return new PieceFetchResult.Failed($"piece {piece.PieceNum}: truncated head ({headRead} bytes)");
            }

            await md5.AppendAsync(buffer.AsMemory(0, PieceFrame.HeadLength)).ConfigureAwait(false);
            var (contentLength, _) = PieceFrame.ReadHead(buffer.AsSpan(0, PieceFrame.HeadLength));
            if (contentLength > piece.PieceSize - PieceFrame.Overhead
                || (piece.Md5 is { } expected && expected.WrappedLength != contentLength + PieceFrame.Overhead))
            {
                return new PieceFetchResult.Failed($"piece {piece.PieceNum}: bad head (content {contentLength})");
            }

            await clock.ThrottleAsync(PieceFrame.HeadLength, cancellationToken).ConfigureAwait(false);

            // Content: read in large chunks (fewer hash calls, limiter waits and file writes per piece) and written to its
            // offset; then exactly one tail byte and the end of the body.
            long written = 0;
            while (written < contentLength)
            {
                var want = (int)Math.Min(ChunkSize, contentLength - written);
                var read = await ReadAtLeastAsync(body, buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                await clock.ThrottleAsync(read, cancellationToken).ConfigureAwait(false);

                // Hashed and written at once; the buffer is reused (or returned) only after both are done with it.
                var hashing = md5.AppendAsync(buffer.AsMemory(0, read));
                PieceFetchResult? writeResult;
                try
                {
                    writeResult = await WriteAsync(target.File, contentOffset + written, buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    await hashing.ConfigureAwait(false);
                }

                if (writeResult is not null)
                {
                    return writeResult;
                }

                written += read;
                if (read < want)
                {
                    break;
                }
            }

            var tail = written == contentLength
                ? await ReadAtLeastAsync(body, buffer.AsMemory(0, 2), cancellationToken).ConfigureAwait(false)
                : 0;
            if (written < contentLength || tail == 0)
            {
                return new PieceFetchResult.Failed($"piece {piece.PieceNum}: truncated body ({written + PieceFrame.HeadLength} of {contentLength + PieceFrame.Overhead} bytes)");
            }

            if (tail > 1 || buffer[0] != PieceFrame.Tail)
            {
                return new PieceFetchResult.Failed($"piece {piece.PieceNum}: bad tail or trailing bytes");
            }

            await clock.ThrottleAsync(PieceFrame.TailLength, cancellationToken).ConfigureAwait(false);
            await md5.AppendAsync(buffer.AsMemory(0, PieceFrame.TailLength)).ConfigureAwait(false);

            var real = md5.GetHashHex();
            if (piece.Md5 is { } pieceMd5 && !string.IsNullOrEmpty(pieceMd5.Md5) && !string.Equals(real, pieceMd5.Md5, StringComparison.OrdinalIgnoreCase))
            {
                return new PieceFetchResult.Md5Mismatch(real, $"piece {piece.PieceNum}: md5 {real} != {pieceMd5.Md5}");
            }

            return new PieceFetchResult.Success(contentOffset, contentLength, contentLength + PieceFrame.Overhead, Unchecked: string.IsNullOrEmpty(piece.Md5?.Md5));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<PieceFetchResult> ReadRawAsync(
        Stream body, PieceTask piece, PieceFetchTarget target, PieceClock clock, long contentOffset, int rawLength, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            long written = 0;
            while (true)
            {
                var read = await body.ReadAsync(buffer.AsMemory(0, ChunkSize), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                if (written + read > rawLength)
                {
                    return new PieceFetchResult.Failed($"piece {piece.PieceNum}: origin sent more than {rawLength} bytes");
                }

                await clock.ThrottleAsync(read, cancellationToken).ConfigureAwait(false);
                var writeResult = await WriteAsync(target.File, contentOffset + written, buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                if (writeResult is not null)
                {
                    return writeResult;
                }

                written += read;
            }

            return written == rawLength
                ? new PieceFetchResult.Success(contentOffset, rawLength, rawLength)
                : new PieceFetchResult.Failed($"piece {piece.PieceNum}: truncated body ({written} of {rawLength} bytes)");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<PieceFetchResult?> WriteAsync(PieceFile file, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await file.WriteAsync(offset, data, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (IOException e)
        {
            return new PieceFetchResult.WriteFailed(DiskErrors.IsNoSpace(e), $"write {file.Path}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            return new PieceFetchResult.WriteFailed(false, $"write {file.Path}: {e.Message}");
        }
    }

    private static async ValueTask<int> ReadAtLeastAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken) =>
        await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
}

/// <summary>
/// A piece's timeout (<c>pieceSize / minrate + 10 s</c>) that does not count the time the download's own rate limit
/// (<c>-s</c>) held the piece back: the pieces in flight share that limit, so under a modest one each gets a fraction of
/// it, and a timeout that counted the waits would cut every piece off and start it again from nothing.
/// </summary>
internal sealed class PieceClock(CancellationTokenSource timeout, TimeSpan limit, DownloadRateLimiter limiter, TimeProvider time)
{
    private readonly long _started = time.GetTimestamp();
    private TimeSpan _allowed = limit;

    /// <summary>Waits until the download's limit lets <paramref name="bytes"/> pass; the timeout stands still meanwhile.</summary>
    public async ValueTask ThrottleAsync(int bytes, CancellationToken cancellationToken)
    {
        if (!limiter.Limits)
        {
            return;
        }

        var left = _allowed - time.GetElapsedTime(_started);
        timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        var before = time.GetTimestamp();
        try
        {
            await limiter.AcquireAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _allowed += time.GetElapsedTime(before);
            timeout.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
    }
}
