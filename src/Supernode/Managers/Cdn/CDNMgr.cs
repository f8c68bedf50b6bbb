using System.Buffers;
using System.Collections.Concurrent;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>
/// The CDN manager (§2.5): one run per task at a time (a second trigger joins the running one), cache detection, full
/// hits, resume and download, reporting every piece to the <see cref="ICdnObserver"/> as soon as it is on disk.
/// </summary>
public sealed partial class CDNMgr : ICDNMgr, ICdnFileAvailability, ICdnTaskPresence, IDisposable
{
    private readonly ConcurrentDictionary<TaskId, CdnTaskState> _tasks = new();
    private readonly CancellationTokenSource _shutdown = new();
    private int _disposed;
    private readonly CdnOptions _options;
    private readonly IPieceStore _store;
    private readonly Func<ICdnObserver> _observer;
    private readonly CdnMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<CDNMgr> _logger;
    private readonly CacheDetector _detector;
    private readonly CdnRateLimiter _limiter;
    private readonly CdnDownloader _downloader;
    private readonly SourcePatternCdn _sourcePattern;
    private readonly FileMetadataStore _meta;
    private readonly PieceMd5Store _md5s;

    /// <param name="observer">
    /// Resolves the observer lazily, so the observer (the task or progress manager) may itself depend on <see cref="ICDNMgr"/>.
    /// </param>
    public CDNMgr(
        IOptions<CdnOptions> options,
        IPieceStore store,
        IOriginClient origin,
        Func<ICdnObserver> observer,
        CdnMetrics metrics,
        TimeProvider time,
        ILogger<CDNMgr> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(origin);
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _store = store;
        _observer = observer;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _detector = new CacheDetector(store, origin, options);
        _limiter = new CdnRateLimiter(_options.SourceRateBytesPerSecond);
        _downloader = new CdnDownloader(store, origin, _limiter, metrics, time, _options, logger);
        _sourcePattern = new SourcePatternCdn(origin);
        _meta = new FileMetadataStore(store);
        _md5s = new PieceMd5Store(store);
    }

    public void Trigger(CdnTaskSpec spec) => _ = TriggerAsync(spec);

    /// <summary>Starts (or joins) the run for a task and returns its outcome; never throws for source or disk faults.</summary>
    public Task<CdnResult> TriggerAsync(CdnTaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.TaskId.IsEmpty || spec.PieceSize <= PieceFrame.Overhead)
        {
            throw new ArgumentException("task spec needs a task id and a piece size", nameof(spec));
        }

        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var state = _tasks.GetOrAdd(spec.TaskId, static (_, s) => new CdnTaskState(s), spec);
        lock (state.Gate)
        {
            if (state.Run is { IsCompleted: false } running)
            {
                Log.Joined(_logger, spec.TaskId.Value);
                return running;
            }

            state.Reset(spec);
            state.Cancellation?.Dispose();
            state.Cancellation = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
            var token = state.Cancellation.Token;
            state.Run = Task.Run(() => RunGuardedAsync(state, spec, token), CancellationToken.None);
            return state.Run;
        }
    }

    public bool TryGetPieceMd5(TaskId taskId, int pieceNum, out PieceMd5 md5)
    {
        md5 = default;
        return _tasks.TryGetValue(taskId, out var state) && state.Pieces.TryGetValue(pieceNum, out md5);
    }

    public async Task<CdnPieceCheck> VerifyPieceAsync(TaskId taskId, int pieceNum, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceNum);
        if (_options.CdnPattern == CdnPattern.Source)
        {
            return CdnPieceCheck.Good;
        }

        // Only a piece with a recorded md5 can be bad. While the task is in memory that is a piece its run has written (a
        // stale .meta/.md5 of an earlier run does not count); otherwise a piece of the finished run's .md5 file.
        int pieceSize;
        PieceMd5 expected;
        if (_tasks.TryGetValue(taskId, out var state))
        {
            pieceSize = state.Spec.PieceSize;
            if (!state.Pieces.TryGetValue(pieceNum, out expected))
            {
                return CdnPieceCheck.Unknown;
            }

            if (!_store.Exists(taskId))
            {
                return CdnPieceCheck.Bad;
            }
        }
        else
        {
            var meta = await _meta.ReadAsync(taskId, cancellationToken);
            if (meta is not { Finish: true, Success: true } || meta.PieceSize <= PieceFrame.Overhead)
            {
                return CdnPieceCheck.Unknown;
            }

            pieceSize = meta.PieceSize;
            var count = (int)((meta.FileLength + pieceSize - 1) / pieceSize);
            if (pieceNum >= count)
            {
                return CdnPieceCheck.Unknown;
            }

            if (!_store.Exists(taskId))
            {
                return CdnPieceCheck.Bad;
            }

            var recorded = await _md5s.ReadAsync(taskId, meta.RealMd5, count, cancellationToken);
            if (recorded is null)
            {
                return CdnPieceCheck.Unknown;
            }

            expected = recorded[pieceNum];
        }

        var buffer = ArrayPool<byte>.Shared.Rent(pieceSize);
        try
        {
            var got = await _store.ReadAsync(taskId, (long)pieceNum * pieceSize, buffer.AsMemory(0, Math.Min(pieceSize, expected.WrappedLength)), cancellationToken);
            var wrapped = buffer.AsSpan(0, got);
            return got == expected.WrappedLength && PieceFrame.TryUnwrap(wrapped, out _)
                && string.Equals(Md5Hex.Of(wrapped), expected.Md5, StringComparison.OrdinalIgnoreCase)
                ? CdnPieceCheck.Good
                : CdnPieceCheck.Bad;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task DeleteAsync(TaskId taskId, bool deleteFiles, CancellationToken cancellationToken)
    {
        if (_tasks.TryRemove(taskId, out var state))
        {
            Task? run;
            CancellationTokenSource? cancellation;
            lock (state.Gate)
            {
                run = state.Run;
                cancellation = state.Cancellation;
            }

            if (run is not null)
            {
                if (!run.IsCompleted && cancellation is not null)
                {
                    await cancellation.CancelAsync();
                }

                await run.WaitAsync(cancellationToken);
            }

            state.Cancellation?.Dispose();
        }

        if (deleteFiles)
        {
            _store.Delete(taskId);
            Log.Deleted(_logger, taskId.Value);
        }
    }

    public string DownloadPath(TaskId taskId, string rawUrl) =>
        _options.CdnPattern == CdnPattern.Source ? rawUrl : $"/download/{taskId.Shard}/{taskId.Value}";

    public async ValueTask<CdnFileView?> GetViewAsync(TaskId taskId, CancellationToken cancellationToken)
    {
        if (_tasks.TryGetValue(taskId, out var state))
        {
            return state.Result switch
            {
                { Success: true } result => new CdnFileView(result.FileLength, true),
                { Success: false } => null,
                _ => new CdnFileView(state.WrittenLength, state.AllWritten),
            };
        }

        var meta = await _meta.ReadAsync(taskId, cancellationToken);
        return meta is { Finish: true, Success: true } && _store.Length(taskId) == meta.FileLength
            ? new CdnFileView(meta.FileLength, true)
            : null;
    }

    public bool IsInMemory(TaskId taskId) => _tasks.ContainsKey(taskId);

    public void Dispose()
    {
        // Registered under several service types, so the container may call this more than once.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _shutdown.Cancel();
        _shutdown.Dispose();
        _limiter.Dispose();
    }

    private async Task<CdnResult> RunGuardedAsync(CdnTaskState state, CdnTaskSpec spec, CancellationToken cancellationToken)
    {
        _metrics.Triggers.Add(1);
        CdnResult result;
        try
        {
            result = await RunAsync(state, spec, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            result = new CdnResult(false, -1, -1, null, CacheHit: false, "canceled");
            state.Complete(result);
            return result;
        }
        catch (Exception e)
        {
            Log.RunFaulted(_logger, spec.TaskId.Value, e);
            result = new CdnResult(false, -1, -1, null, CacheHit: false, e.Message);
        }

        if (!result.Success)
        {
            _metrics.TriggerFailures.Add(1);
        }

        state.Complete(result);
        await NotifyCompletedAsync(spec.TaskId, result, cancellationToken);
        return result;
    }

    private async Task<CdnResult> RunAsync(CdnTaskState state, CdnTaskSpec spec, CancellationToken cancellationToken)
    {
        ValueTask OnPiece(int pieceNum, PieceMd5 md5) => NotifyPieceAsync(spec.TaskId, pieceNum, md5, cancellationToken);

        if (_options.CdnPattern == CdnPattern.Source)
        {
            return await _sourcePattern.RunAsync(spec, state, OnPiece, cancellationToken);
        }

        var decision = await _detector.DetectAsync(spec, cancellationToken);
        Log.Detected(_logger, spec.TaskId.Value, decision.Kind, decision.Reason);
        if (decision is { Kind: CacheDecisionKind.FullHit, Metadata: { } meta })
        {
            return await ServeFullHitAsync(state, spec, decision, meta, OnPiece, cancellationToken);
        }

        return await _downloader.DownloadAsync(spec, state, decision, OnPiece, cancellationToken);
    }

    private async Task<CdnResult> ServeFullHitAsync(
        CdnTaskState state, CdnTaskSpec spec, CacheDecision decision, CdnFileMetadata meta, CdnDownloader.PieceReady onPiece, CancellationToken cancellationToken)
    {
        _metrics.CacheHits.Add(1);
        for (var i = 0; i < decision.Pieces.Count; i++)
        {
            state.Pieces[i] = decision.Pieces[i];
        }

        state.AllPiecesWritten(meta.FileLength);
        if (decision.Md5FileRebuilt)
        {
            await _md5s.WriteAsync(spec.TaskId, decision.Pieces, meta.RealMd5, cancellationToken);
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await _meta.WriteAsync(spec.TaskId, meta with { AccessTime = now, Interval = meta.AccessTime > 0 ? Math.Max(0, now - meta.AccessTime) : 0 }, cancellationToken);
        for (var i = 0; i < decision.Pieces.Count; i++)
        {
            await onPiece(i, decision.Pieces[i]);
        }

        var sourceLength = PieceLayout.SourceLengthFromWrapped(meta.FileLength, spec.PieceSize);
        return new CdnResult(true, meta.FileLength, sourceLength, meta.RealMd5, CacheHit: true);
    }

    private async ValueTask NotifyPieceAsync(TaskId taskId, int pieceNum, PieceMd5 md5, CancellationToken cancellationToken)
    {
        try
        {
            await _observer().OnPieceReadyAsync(taskId, pieceNum, md5, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.ObserverFailed(_logger, taskId.Value, e);
        }
    }

    private async ValueTask NotifyCompletedAsync(TaskId taskId, CdnResult result, CancellationToken cancellationToken)
    {
        try
        {
            await _observer().OnCompletedAsync(taskId, result, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.ObserverFailed(_logger, taskId.Value, e);
        }
    }
}
