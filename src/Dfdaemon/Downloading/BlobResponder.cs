using System.Buffers;
using System.Security.Cryptography;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfdaemon.Proxy;
using Dragonfly.Dfdaemon.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Downloading;

/// <summary>
/// Serves one blob GET: first the upstream is asked whether this client may read the blob (<see cref="BlobAccessCheck"/>); when it
/// says no, or cannot be asked, the request goes to the upstream directly and never touches P2P. Otherwise P2P through
/// <see cref="IBlobFetcher"/>, streamed to the client in piece order as bytes arrive, the sha256
/// digest checked before the last bytes are released (a mismatch aborts the connection, so a wrong layer never completes). When P2P
/// fails before the first byte the request goes to the upstream directly and its status and body reach the client unchanged.
/// </summary>
public sealed partial class BlobResponder
{
    /// <summary>
    /// Bytes per response write, and what is held back until the digest matched. Large writes keep the per-write cost
    /// (a flush, a send, a thread hop) small next to hashing and copying; pieces arrive whole (4 MiB and up), so a client's
    /// first byte is not later for it.
    /// </summary>
    internal const int ChunkSize = 1024 * 1024;

    private readonly IBlobFetcher _fetcher;
    private readonly HttpForwarder _forwarder;
    private readonly BlobAccessCheck _access;
    private readonly UpstreamTlsPolicy _tls;
    private readonly DfdaemonMetrics _metrics;
    private readonly ILogger<BlobResponder> _logger;

    public BlobResponder(IBlobFetcher fetcher, HttpForwarder forwarder, BlobAccessCheck access, UpstreamTlsPolicy tls, DfdaemonMetrics metrics, ILogger<BlobResponder> logger)
    {
        _fetcher = fetcher ?? throw new ArgumentNullException(nameof(fetcher));
        _forwarder = forwarder ?? throw new ArgumentNullException(nameof(forwarder));
        _access = access ?? throw new ArgumentNullException(nameof(access));
        _tls = tls ?? throw new ArgumentNullException(nameof(tls));
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public async Task ServeAsync(HttpContext context, Uri upstream, string? sha256, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(upstream);

        // A ranged request (resume) is the upstream's business: P2P always yields the whole blob.
        if (context.Request.Headers.Range.Count > 0)
        {
            await _forwarder.ForwardAsync(context, upstream, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The P2P cache holds what another client's credentials fetched: only a client the upstream lets read the blob gets it
        // from there. Any other answer goes to the upstream directly, so the client sees the registry's own answer to its own
        // GET (401 + WWW-Authenticate, 403, 404, with their bodies). Without a supernode nothing comes from that cache, so
        // there is nothing to ask: the GET goes to the upstream below without a HEAD before it.
        BlobAccess access = new BlobAccess.NotChecked();
        try
        {
            if (_fetcher is not DisabledBlobFetcher)
            {
                access = await _access.CheckAsync(context.Request, upstream, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        if (!access.MayUseP2p)
        {
            _metrics.BlobNotAllowed();
            await _forwarder.ForwardAsync(context, upstream, cancellationToken).ConfigureAwait(false);
            return;
        }

        var request = new BlobFetchRequest(
            upstream,
            HeaderFilter.ForBlob(context.Request.Headers),
            sha256,
            _tls.IsInsecure(upstream),
            _tls.CaFilesFor(upstream));

        BlobFetchResult result;
        try
        {
            result = await _fetcher.FetchAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            result = new BlobFetchResult.Failed(e.Message);
        }

        switch (result)
        {
            case BlobFetchResult.Started started:
                await using (started.Content.ConfigureAwait(false))
                {
                    await StreamAsync(context, started, sha256, upstream, cancellationToken).ConfigureAwait(false);
                }

                break;
            case BlobFetchResult.Failed failed:
                _metrics.BlobFellBack();
                Log.FallingBack(_logger, upstream.AbsolutePath, failed.Reason);
                await _forwarder.ForwardAsync(context, upstream, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async Task StreamAsync(HttpContext context, BlobFetchResult.Started started, string? sha256, Uri upstream, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/octet-stream";
        if (started.Length >= 0)
        {
            response.ContentLength = started.Length;
        }

        if (sha256 is not null)
        {
            response.Headers["Docker-Content-Digest"] = "sha256:" + sha256;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var current = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var pending = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var pendingLength = 0;
        long total = 0;
        try
        {
            // Write one chunk behind the reader: the final chunk is only released after the digest matched.
            while (true)
            {
                int read;
                try
                {
                    read = await ReadChunkAsync(started.Content, current, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or HttpRequestException or InvalidDataException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    _metrics.BlobFailedMidStream();
                    Log.MidStreamFailure(_logger, upstream.AbsolutePath, total, e.Message);
                    context.Abort();
                    return;
                }

                if (read == 0)
                {
                    break;
                }

                hash.AppendData(current, 0, read);
                total += read;
                if (started.Length >= 0 && total > started.Length)
                {
                    _metrics.DigestMismatch();
                    Log.DigestMismatch(_logger, upstream.AbsolutePath, sha256 ?? "-", "(too long)", total, started.Length);
                    context.Abort();
                    return;
                }

                if (pendingLength > 0)
                {
                    await response.Body.WriteAsync(pending.AsMemory(0, pendingLength), cancellationToken).ConfigureAwait(false);
                    _metrics.AddP2pBytes(pendingLength);
                }

                (current, pending) = (pending, current);
                pendingLength = read;
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if ((sha256 is not null && !string.Equals(actual, sha256, StringComparison.Ordinal)) || (started.Length >= 0 && total != started.Length))
            {
                _metrics.DigestMismatch();
                Log.DigestMismatch(_logger, upstream.AbsolutePath, sha256 ?? "-", actual, total, started.Length);
                context.Abort();
                return;
            }

            // Verified: count it before the last bytes let the client finish.
            _metrics.AddP2pBytes(pendingLength);
            _metrics.BlobServedByP2p();
            Log.Served(_logger, upstream.AbsolutePath, total);
            if (pendingLength > 0)
            {
                await response.Body.WriteAsync(pending.AsMemory(0, pendingLength), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client went away.
        }
        catch (InvalidOperationException)
        {
            // Kestrel refused a write (response already aborted or over its Content-Length): never complete the response.
            context.Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(pending);
        }
    }

    /// <summary>Reads up to a full chunk (fewer only at the end), so every write but the last carries a whole chunk.</summary>
    private static async Task<int> ReadChunkAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < ChunkSize)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(filled, ChunkSize - filled), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            filled += n;
        }

        return filled;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 20, Level = LogLevel.Information, Message = "P2P for {Path} failed before the first byte ({Reason}); going to the upstream directly")]
        public static partial void FallingBack(ILogger logger, string path, string reason);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 21, Level = LogLevel.Information, Message = "Served {Path} through P2P: {Bytes} bytes")]
        public static partial void Served(ILogger logger, string path, long bytes);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 22, Level = LogLevel.Error, Message = "Blob {Path} digest mismatch: expected {Expected}, got {Actual} ({Bytes} of {Length} bytes); connection aborted")]
        public static partial void DigestMismatch(ILogger logger, string path, string expected, string actual, long bytes, long length);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 23, Level = LogLevel.Warning, Message = "Blob {Path} failed after {Bytes} bytes: {Error}; connection aborted")]
        public static partial void MidStreamFailure(ILogger logger, string path, long bytes, string error);
    }
}
