using System.Buffers;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Logging;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Storage;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>
/// Downloads a source into the CDN file (§2.5 steps 3–5): GET (or a Range GET to resume), records Last-Modified/ETag,
/// reads through the shared rate limiter and cuts wrapped pieces into pooled one-piece buffers. Each piece is hashed, with
/// the whole file in the same pass (<see cref="FileAndPieceMd5"/>, about the cost of one MD5), on the thread pool while the
/// next piece is read, then written at <c>pieceNum·pieceSize</c> and reported, in piece order, as soon as it and its
/// predecessors are on disk. Up to <see cref="Writers"/> pieces are hashed or written while the next is read, so memory
/// stays at a few pieces whatever the file size. A source that sends no headers within
/// <see cref="CdnOptions.SourceHeadersTimeout"/>, or nothing for <see cref="CdnOptions.SourceIdleTimeout"/> mid-body, fails
/// the run like a broken stream (resumable). A data file deleted under the run (disk GC, an operator) fails it: the
/// store never creates it again for a later piece, the run checks the file is still whole before it reports success, and
/// the task's remaining files are removed so the next run downloads from the start.
/// </summary>
internal sealed partial class CdnDownloader
{
    /// <summary>Pieces written concurrently behind the reader (the original used up to four writers).</summary>
    private static readonly int Writers = Math.Clamp(Environment.ProcessorCount, 2, 4);

    private readonly IPieceStore _store;
    private readonly IOriginClient _origin;
    private readonly CdnRateLimiter _limiter;
    private readonly CdnMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CdnOptions _options;
    private readonly FileMetadataStore _meta;
    private readonly PieceMd5Store _md5s;

    public CdnDownloader(IPieceStore store, IOriginClient origin, CdnRateLimiter limiter, CdnMetrics metrics, TimeProvider time, CdnOptions options, ILogger logger)
    {
        _store = store;
        _origin = origin;
        _limiter = limiter;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _options = options;
        _meta = new FileMetadataStore(store);
        _md5s = new PieceMd5Store(store);
    }

    public delegate ValueTask PieceReady(int pieceNum, PieceMd5 md5);

    public async Task<CdnResult> DownloadAsync(CdnTaskSpec spec, CdnTaskState state, CacheDecision decision, PieceReady onPiece, CancellationToken cancellationToken)
    {
        var ps = spec.PieceSize;
        var content = PieceLayout.ContentPerPiece(ps);
        var md5 = new FileAndPieceMd5();
        HttpResponseMessage? response = null;
        try
        {
            IReadOnlyList<PieceMd5> prefix = [];
            if (decision.Kind == CacheDecisionKind.Resume)
            {
                prefix = await CacheDetector.ReadPiecesAsync(_store, spec, (long)decision.StartPiece * ps, untilInvalid: true, md5, cancellationToken);
            }

            var prefixSource = (long)prefix.Count * content;
            if (prefix.Count > 0 && prefixSource > spec.HttpFileLength)
            {
                prefix = [];
                prefixSource = 0;
                md5.Reset();
            }

            if (prefix.Count > 0 && prefixSource < spec.HttpFileLength)
            {
                var range = string.Create(CultureInfo.InvariantCulture, $"bytes={prefixSource}-{spec.HttpFileLength - 1}");
                response = await GetAsync(spec, new Dictionary<string, string> { ["Range"] = range }, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    // The source ignored Range: this 200 is the whole file, start over from piece 0.
                    Log.ResumeIgnored(_logger, spec.TaskId.Value);
                    prefix = [];
                    prefixSource = 0;
                    md5.Reset();
                }
                else if (response.StatusCode != HttpStatusCode.PartialContent)
                {
                    return await FailAsync(spec, state, $"resume request answered {(int)response.StatusCode}", cancellationToken);
                }
            }

            if (prefix.Count == 0)
            {
                _store.DeleteSide(spec.TaskId, PieceMd5Store.Suffix);
                _store.Truncate(spec.TaskId, 0);
                if (response is null)
                {
                    response = await GetAsync(spec, null, cancellationToken);
                    if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.PartialContent))
                    {
                        return await FailAsync(spec, state, $"source answered {(int)response.StatusCode}", cancellationToken);
                    }
                }
            }
            else
            {
                Log.Resuming(_logger, spec.TaskId.Value, prefix.Count, prefixSource);
            }

            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var previous = decision.Metadata;
            var meta = new CdnFileMetadata
            {
                TaskId = spec.TaskId.Value,
                Url = spec.TaskUrl,
                PieceSize = ps,
                HttpFileLength = spec.HttpFileLength,
                BizId = spec.Identifier ?? string.Empty,
                AccessTime = now,
                Interval = previous is { AccessTime: > 0 } ? Math.Max(0, now - previous.AccessTime) : 0,
                Md5 = spec.Md5 ?? string.Empty,
                LastModified = response?.Content.Headers.LastModified?.ToUnixTimeMilliseconds() ?? previous?.LastModified ?? 0,
                ETag = response?.Headers.ETag?.ToString() ?? (response is null ? previous?.ETag : null) ?? string.Empty,
            };
            await _meta.WriteAsync(spec.TaskId, meta, cancellationToken);

            for (var i = 0; i < prefix.Count; i++)
            {
                state.PieceWritten(i, prefix[i]);
                await onPiece(i, prefix[i]);
            }

            _metrics.Downloads.Add(1);
            var (pieceCount, sourceBytes) = response is null
                ? (prefix.Count, prefixSource)
                : await PumpAsync(spec, state, response, prefix.Count, prefixSource, md5, onPiece, cancellationToken);

            var fileLength = sourceBytes + ((long)pieceCount * PieceFrame.Overhead);

            // A piece written through a handle opened just before the file was deleted lands in the deleted file: one
            // stat makes sure the run never reports a file that is no longer there (or was cut) as complete.
            var onDisk = _store.Length(spec.TaskId);
            if (onDisk < 0)
            {
                throw new StoreWriteException(new PieceFileMissingException(spec.TaskId, _store.DataPath(spec.TaskId)));
            }

            if (onDisk < fileLength)
            {
                return await FailAsync(spec, state, $"data file is {onDisk} bytes, less than the {fileLength} written: it was cut during the run", cancellationToken);
            }

            state.AllPiecesWritten(fileLength);
            var realMd5 = md5.FinishFile();
            var expected = spec.HttpFileLength >= 0 ? spec.HttpFileLength
                : prefix.Count == 0 && response?.StatusCode == HttpStatusCode.OK ? response.Content.Headers.ContentLength ?? -1 : -1;

            if (!string.IsNullOrEmpty(spec.Md5) && !string.Equals(spec.Md5, realMd5, StringComparison.OrdinalIgnoreCase))
            {
                return await FailAsync(spec, state, $"md5 mismatch: expected {spec.Md5}, got {realMd5}", cancellationToken, meta with { RealMd5 = realMd5, FileLength = fileLength });
            }

            if (expected >= 0 && expected != sourceBytes)
            {
                return await FailAsync(spec, state, $"length mismatch: expected {expected}, got {sourceBytes}", cancellationToken, meta with { RealMd5 = realMd5, FileLength = fileLength });
            }

            var pieces = Enumerable.Range(0, pieceCount).Select(i => state.Pieces[i]).ToList();
            await _md5s.WriteAsync(spec.TaskId, pieces, realMd5, cancellationToken);
            await _meta.WriteAsync(spec.TaskId, meta with { RealMd5 = realMd5, FileLength = fileLength, Finish = true, Success = true }, cancellationToken);
            Log.Downloaded(_logger, spec.TaskId.Value, sourceBytes, pieceCount, realMd5);
            return new CdnResult(true, fileLength, sourceBytes, realMd5, CacheHit: false);
        }
        catch (StoreWriteException e) when (e.InnerException is PieceFileMissingException missing)
        {
            // Deleted under the run (disk GC, an operator): fail without writing anything for the task again, so neither
            // a sparse data file nor a metadata file of a deleted task is left; the next run downloads from the start.
            Log.DataFileVanished(_logger, spec.TaskId.Value, missing.Message);
            _metrics.DownloadFailures.Add(1);
            _store.Delete(spec.TaskId);
            return new CdnResult(false, -1, -1, null, CacheHit: false, missing.Message);
        }
        catch (StoreWriteException e)
        {
            // Disk failure (a full disk included): the task fails cleanly (finish, no success, no .md5), the process goes on.
            return await FailAsync(spec, state, e.Message, cancellationToken);
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            // The source stream broke or stopped answering (SourceTimeoutException): the task fails, but the cache stays
            // unfinished so the next run resumes by Range.
            Log.DownloadFailed(_logger, spec.TaskId.Value, e.Message);
            _metrics.DownloadFailures.Add(1);
            return new CdnResult(false, -1, -1, null, CacheHit: false, e.Message);
        }
        finally
        {
            response?.Dispose();
        }
    }

    private async Task<(int PieceCount, long SourceBytes)> PumpAsync(
        CdnTaskSpec spec, CdnTaskState state, HttpResponseMessage response, int startPiece, long sourceBytes,
        FileAndPieceMd5 md5, PieceReady onPiece, CancellationToken cancellationToken)
    {
        var ps = spec.PieceSize;
        var content = PieceLayout.ContentPerPiece(ps);
        var pieceNum = startPiece;
        var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using var bodyScope = body;
        using var idle = new SourceIdleTimer(_options.SourceIdleTimeout, _time, cancellationToken);
        var inFlight = new Queue<Task>(Writers);
        Task reported = Task.CompletedTask;
        Task hashed = Task.CompletedTask;
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                buffer = ArrayPool<byte>.Shared.Rent(ps);
                var n = await FillAsync(body, idle, buffer.AsMemory(PieceFrame.HeadLength, content), cancellationToken);
                if (n == 0 && !(pieceNum == 0 && sourceBytes == 0))
                {
                    break;
                }

                PieceFrame.WriteHead(buffer, n, ps);
                buffer[PieceFrame.HeadLength + n] = PieceFrame.Tail;
                var wrapped = n + PieceFrame.Overhead;
                _metrics.DownloadBytes.Add(n);

                if (inFlight.Count == Writers)
                {
                    await inFlight.Dequeue();
                }

                // The piece is hashed on the pool while the next one is read here: the md5s are one chain in piece order
                // (each hash starts when its predecessor's ends), the socket keeps being drained meanwhile. Each piece is
                // written as soon as it is hashed and reported after its predecessor, so the servable prefix only ever grows
                // by whole, written pieces.
                var (owned, num, previousHash, previousReport) = (buffer, pieceNum, hashed, reported);
                buffer = null;
                var hash = Task.Run(async () =>
                {
                    await previousHash.ConfigureAwait(false);
                    return new PieceMd5(md5.AppendPiece(owned.AsSpan(0, wrapped)), wrapped);
                }, CancellationToken.None);
                hashed = hash;
                reported = WriteWhenHashedAsync(spec, state, num, owned, hash, previousReport, onPiece, cancellationToken);
                inFlight.Enqueue(reported);
                sourceBytes += n;
                pieceNum++;
                if (n < content)
                {
                    break;
                }
            }

            while (inFlight.Count > 0)
            {
                await inFlight.Dequeue();
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            while (inFlight.Count > 0)
            {
                try
                {
                    await inFlight.Dequeue();
                }
                catch (Exception)
                {
                    // Already failing; the first error is the one reported.
                }
            }
        }

        return (pieceNum, sourceBytes);
    }

    private async Task WriteWhenHashedAsync(
        CdnTaskSpec spec, CdnTaskState state, int pieceNum, byte[] buffer, Task<PieceMd5> hash, Task previous, PieceReady onPiece, CancellationToken cancellationToken)
    {
        PieceMd5 md5;
        try
        {
            // Off the hashing thread: the next piece's hash continues there, and this write must not wait in front of it.
            md5 = await hash.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        try
        {
            await _store.WriteAsync(spec.TaskId, (long)pieceNum * spec.PieceSize, buffer.AsMemory(0, md5.WrappedLength), cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreWriteException(e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await previous;
        state.PieceWritten(pieceNum, md5);
        await onPiece(pieceNum, md5);
    }

    /// <summary>
    /// Sends a source GET that must answer with its headers within <see cref="CdnOptions.SourceHeadersTimeout"/>; a silent
    /// source fails the run as a <see cref="SourceTimeoutException"/>.
    /// </summary>
    private async Task<HttpResponseMessage> GetAsync(CdnTaskSpec spec, IReadOnlyDictionary<string, string>? extraHeaders, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.SourceHeadersTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await _origin.GetAsync(spec.Origin, extraHeaders, linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SourceTimeoutException(string.Create(
                CultureInfo.InvariantCulture, $"source sent no response headers within {_options.SourceHeadersTimeout.TotalSeconds:0.###}s"));
        }
    }

    /// <summary>Reads until <paramref name="destination"/> is full or the body ends, through the rate limiter and the idle timer.</summary>
    private async Task<int> FillAsync(Stream body, SourceIdleTimer idle, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var chunk = Math.Min(_limiter.ChunkSize, destination.Length - total);
            var read = await idle.ReadAsync(body, destination.Slice(total, chunk));
            if (read == 0)
            {
                break;
            }

            await _limiter.AcquireAsync(read, cancellationToken);
            total += read;
        }

        return total;
    }

    private async Task<CdnResult> FailAsync(CdnTaskSpec spec, CdnTaskState state, string error, CancellationToken cancellationToken, CdnFileMetadata? meta = null)
    {
        Log.DownloadFailed(_logger, spec.TaskId.Value, error);
        _metrics.DownloadFailures.Add(1);
        _store.DeleteSide(spec.TaskId, PieceMd5Store.Suffix);
        try
        {
            var failed = (meta ?? new CdnFileMetadata
            {
                TaskId = spec.TaskId.Value,
                Url = spec.TaskUrl,
                PieceSize = spec.PieceSize,
                HttpFileLength = spec.HttpFileLength,
                BizId = spec.Identifier ?? string.Empty,
                AccessTime = _time.GetUtcNow().ToUnixTimeMilliseconds(),
                Md5 = spec.Md5 ?? string.Empty,
            }) with { Finish = true, Success = false };
            await _meta.WriteAsync(spec.TaskId, failed, cancellationToken);
        }
        catch (IOException e)
        {
            Log.MetaWriteFailed(_logger, spec.TaskId.Value, e.Message);
        }

        return new CdnResult(false, -1, -1, null, CacheHit: false, error);
    }

    /// <summary>A write to the piece store failed (disk full, permissions): not resumable, unlike a broken source stream.</summary>
    private sealed class StoreWriteException(Exception inner) : Exception(inner.Message, inner);

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.SupernodeCdn + 20, Level = LogLevel.Information, Message = "CDN downloaded task {TaskId}: {Bytes} bytes in {Pieces} pieces, md5 {Md5}")]
        public static partial void Downloaded(ILogger logger, string taskId, long bytes, int pieces, string md5);

        [LoggerMessage(EventId = EventIds.SupernodeCdn + 21, Level = LogLevel.Warning, Message = "CDN download of task {TaskId} failed: {Error}")]
        public static partial void DownloadFailed(ILogger logger, string taskId, string error);

        [LoggerMessage(EventId = EventIds.SupernodeCdn + 22, Level = LogLevel.Information, Message = "CDN resumes task {TaskId} after {Pieces} pieces at source offset {Offset}")]
        public static partial void Resuming(ILogger logger, string taskId, int pieces, long offset);

        [LoggerMessage(EventId = EventIds.SupernodeCdn + 23, Level = LogLevel.Information, Message = "Source ignored the resume Range for task {TaskId}; downloading from the start")]
        public static partial void ResumeIgnored(ILogger logger, string taskId);

        [LoggerMessage(EventId = EventIds.SupernodeCdn + 25, Level = LogLevel.Warning, Message = "CDN download of task {TaskId} failed: {Error}; its files are removed and the next run starts over")]
        public static partial void DataFileVanished(ILogger logger, string taskId, string error);

        [LoggerMessage(EventId = EventIds.SupernodeCdn + 24, Level = LogLevel.Error, Message = "Could not write metadata of failed task {TaskId}: {Error}")]
        public static partial void MetaWriteFailed(ILogger logger, string taskId, string error);
    }
}
