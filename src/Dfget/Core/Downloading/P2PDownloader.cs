using System.Collections.Concurrent;
using System.Threading.Channels;
using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Rates;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Downloading;

/// <summary>Everything one P2P run needs.</summary>
/// <param name="Hasher">The whole-file md5, fed as the in-order prefix grows; null when the caller verifies the content itself.</param>
/// <param name="PendingUploader">Set when this peer registered as p2p while its uploader was still starting.</param>
/// <param name="SupernodeRecovery">How long to keep registering again when every supernode is unreachable (<see cref="DownloadRequest.SupernodeRecovery"/>).</param>
internal sealed record P2PContext(
    ISupernodeSession Session,
    PieceFile File,
    OrderedFileHasher? Hasher,
    long SourceLength,
    Rate MinRate,
    DownloadRateLimiter Limiter,
    Random Random,
    int MaxConcurrentPieces,
    DownloadStats Stats,
    IProgress<DownloadProgress>? Progress,
    AdvertisedUploader? PendingUploader = null,
    TimeSpan SupernodeRecovery = default);

/// <summary>How a P2P run ended.</summary>
internal abstract record P2POutcome
{
    private P2POutcome()
    {
    }

    /// <summary>
    /// The supernode reported the task finished (600). <paramref name="Written"/>: where the pieces this run has on disk
    /// lie in the file (content offset and length); <paramref name="UncheckedPieces"/>: how many of them came from peers or
    /// the supernode without a piece md5 (<see cref="PieceFetchResult.Success.Unchecked"/>).
    /// </summary>
    public sealed record Finished(string? Md5, long WrappedLength, IReadOnlyCollection<(long Offset, int Length)> Written, int UncheckedPieces) : P2POutcome
    {
        /// <summary>The first byte below <paramref name="length"/> that no piece wrote, or null when every byte was written.</summary>
        public long? FirstHole(long length)
        {
            var covered = 0L;
            foreach (var (offset, count) in Written.OrderBy(w => w.Offset))
            {
                if (offset > covered)
                {
                    break;
                }

                covered = Math.Max(covered, offset + count);
            }

            return covered >= length ? null : covered;
        }
    }

    public sealed record Failed(BackSourceReason Reason, string Message) : P2POutcome;
}

/// <summary>
/// The pull loop: STARTED → 601 fetch the scheduled pieces concurrently (bounded), each completion reported on the next pull;
/// 602 back off 50–100 ms doubling to 800–1600 ms, woken early by completions (a v1 "wait" the supernode already held for
/// the swarm to change is asked again after 50–100 ms, without doubling); 600 done; a supernode that answers it no
/// longer knows the download (502) is registered with again, up to <see cref="MaxRejoins"/> times; anything else migrates
/// to the next supernode (P2P fails with reason 3 when that is impossible). Failed pieces are re-queued as result=500 after 20 ms.
/// With a pending uploader (<see cref="AdvertisedUploader"/>), the first success report waits for it; when it does not
/// serve, the loop registers again (on the port of a replacement uploader, or as a cdn peer) before reporting anything.
/// </summary>
internal sealed partial class P2PDownloader(PieceFetcher fetcher, TimeProvider timeProvider, ILogger<P2PDownloader> logger)
{
    internal static readonly TimeSpan RequeueDelay = TimeSpan.FromMilliseconds(20);

    /// <summary>How many times one download registers again with a supernode that forgot it (<see cref="ForgotTheDownload"/>).</summary>
    internal const int MaxRejoins = 2;

    /// <summary>How many recoveries in a row (<see cref="ISupernodeSession.RecoverAsync"/>) may pass without a piece completed.</summary>
    internal const int MaxFruitlessRecoveries = 2;
    private const int MaxWaitLevel = 4;

    public async Task<P2POutcome> RunAsync(P2PContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var loopCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var concurrency = new SemaphoreSlim(Math.Max(1, context.MaxConcurrentPieces));
        var run = new RunState(context, loopCts.Token, concurrency);
        try
        {
            return await LoopAsync(run).ConfigureAwait(false);
        }
        finally
        {
            await loopCts.CancelAsync().ConfigureAwait(false);
            await run.DrainAsync().ConfigureAwait(false);
        }
    }

    private async Task<P2POutcome> LoopAsync(RunState run)
    {
        var token = run.Token;
        var session = run.Context.Session;
        var report = PullReport.Start;
        var waitLevel = 0;
        while (true)
        {
            token.ThrowIfCancellationRequested();
            if (run.Fatal is { } fatal)
            {
                return new P2POutcome.Failed(fatal.NoSpace ? BackSourceReason.NoSpace : BackSourceReason.WriteError, fatal.Message);
            }

            if (run.Pending is { } pending && report.Result is ClientPieceResult.SemiSuccess or ClientPieceResult.Success)
            {
                run.Pending = null;
                if (!await pending.Serving.WaitAsync(token).ConfigureAwait(false))
                {
                    var replaced = await ReRegisterAsync(run, pending).ConfigureAwait(false);
                    if (replaced is not RegisterOutcome.Registered)
                    {
                        var message = replaced is RegisterOutcome.Failed failedAgain ? failedAgain.Message : "re-registration failed";
                        return new P2POutcome.Failed(BackSourceReason.DownloadError, $"the uploader did not start; registering again failed: {message}");
                    }

                    report = PullReport.Start;
                    waitLevel = 0;
                    continue;
                }
            }

            var outcome = await session.PullAsync(report, token).ConfigureAwait(false);
            switch (outcome)
            {
                case PullOutcome.Continue next:
                    waitLevel = 0;
                    foreach (var piece in next.Pieces)
                    {
                        Schedule(run, piece);
                    }

                    report = await NextReportAsync(run).ConfigureAwait(false);
                    break;

                case PullOutcome.Wait { Held: true }:
                    // The supernode already waited for the swarm to change (about a second, PullHold): ask again after the
                    // shortest back-off instead of a growing one.
                    report = await WaitAsync(run, 0).ConfigureAwait(false);
                    waitLevel = 0;
                    break;

                case PullOutcome.Wait:
                    report = await WaitAsync(run, waitLevel).ConfigureAwait(false);
                    waitLevel = Math.Min(waitLevel + 1, MaxWaitLevel);
                    break;

                case PullOutcome.Finished finished:
                    await run.WaitRunningAsync().ConfigureAwait(false);
                    if (run.Fatal is { } late)
                    {
                        return new P2POutcome.Failed(late.NoSpace ? BackSourceReason.NoSpace : BackSourceReason.WriteError, late.Message);
                    }

                    await run.WaitReportsAsync().ConfigureAwait(false);
                    return new P2POutcome.Finished(finished.Md5, finished.WrappedLength, [.. run.Completed.Values], run.UncheckedPieces);

                case PullOutcome.Failed failed:
                    Log.PullFailed(logger, failed.Code, failed.Message);
                    await run.WaitRunningAsync().ConfigureAwait(false);
                    while (run.Reports.Reader.TryRead(out _))
                    {
                    }

                    // A supernode that no longer knows this download (restarted, or it dropped the task) is asked again
                    // before any other: it recreates the task, so its swarm stays together. A bounded number of times, so
                    // a node that keeps forgetting cannot hold the download forever.
                    var rejoin = ForgotTheDownload(failed) && run.Rejoins < MaxRejoins;
                    RegisterOutcome migrated;
                    if (rejoin)
                    {
                        run.Rejoins++;
                        Log.Rejoining(logger, run.Rejoins, MaxRejoins);
                        migrated = await session.RejoinAsync(token).ConfigureAwait(false);
                    }
                    else
                    {
                        migrated = await session.MigrateAsync(token).ConfigureAwait(false);
                    }

                    if ((rejoin || failed.Code == SupernodeHttp.TransportError) && migrated is RegisterOutcome.Failed { Code: SupernodeHttp.TransportError })
                    {
                        // Nothing answers: the supernode may be restarting. Pieces on disk stay; the same cid registers again.
                        // A supernode that takes registrations but never answers a pull would bring the loop back here for
                        // ever: after MaxFruitlessRecoveries in a row without a piece completed between them, P2P gives up.
                        run.FruitlessRecoveries = run.Completed.Count == run.CompletedAtLastRecovery ? run.FruitlessRecoveries + 1 : 0;
                        run.CompletedAtLastRecovery = run.Completed.Count;
                        if (run.FruitlessRecoveries > MaxFruitlessRecoveries)
                        {
                            return new P2POutcome.Failed(
                                BackSourceReason.DownloadError,
                                $"the supernode was recovered {MaxFruitlessRecoveries} times without a piece completed in between: {failed.Message}");
                        }

                        Log.Recovering(logger, run.Context.SupernodeRecovery.TotalSeconds);
                        migrated = await session.RecoverAsync(run.Context.SupernodeRecovery, token).ConfigureAwait(false);
                    }

                    if (migrated is not RegisterOutcome.Registered registered)
                    {
                        return new P2POutcome.Failed(BackSourceReason.DownloadError, failed.Message);
                    }

                    Log.Migrated(logger, registered.Registration.Node.HostPort);
                    Adopt(run, registered.Registration);
                    report = PullReport.Start;
                    waitLevel = 0;
                    break;
            }
        }
    }

    /// <summary>
    /// Whether a failed pull says the supernode does not know this download: legacy code 502 (target not found) in the
    /// supernode's answer (the legacy envelope, or the v1 error body). An HTTP 502 without it is a gateway's, not this.
    /// </summary>
    internal static bool ForgotTheDownload(PullOutcome.Failed failed) => failed.Code == (int)LegacyCode.TargetNotFound && !failed.FromHttpStatus;

    /// <summary>
    /// The uploader registered with does not serve: finish the running pieces, drop their reports (they belong to the old
    /// registration; the supernode hands the pieces out again and <see cref="Schedule"/> reports them as already on disk)
    /// and register again as what the replacement gives (a p2p peer on a working uploader's port, or a cdn peer).
    /// </summary>
    private async Task<RegisterOutcome> ReRegisterAsync(RunState run, AdvertisedUploader pending)
    {
        await run.WaitRunningAsync().ConfigureAwait(false);
        while (run.Reports.Reader.TryRead(out _))
        {
        }

        var info = await pending.ReplaceAsync(run.Token).ConfigureAwait(false);
        Log.ReRegistering(logger, info.Pattern, info.Port);
        var outcome = await run.Context.Session.ReRegisterAsync(info, run.Token).ConfigureAwait(false);
        if (outcome is RegisterOutcome.Registered registered)
        {
            run.SuccessReportsAllowed = Task.FromResult(true);
            Adopt(run, registered.Registration);
        }

        return outcome;
    }

    /// <summary>
    /// After a new registration (no piece is running then): the pieces on disk are known by number, and a number names
    /// the same bytes only under the same piece size. A supernode that cuts the file in pieces of another size (its own
    /// configuration) numbers other ranges, so what is on disk is forgotten and fetched again in the new pieces, as the
    /// original does; the bytes already written stay valid where they are (the whole-file md5 is unaffected).
    /// </summary>
    private void Adopt(RunState run, SupernodeRegistration registration)
    {
        if (registration.PieceSize == run.PieceSize)
        {
            return;
        }

        Log.PieceSizeChanged(logger, run.PieceSize, registration.PieceSize, run.Completed.Count);
        run.PieceSize = registration.PieceSize;
        run.Completed.Clear();

        // Progress is counted afresh: a recovery after this one is fruitless unless a piece of the new size completes.
        run.CompletedAtLastRecovery = Math.Min(run.CompletedAtLastRecovery, 0);
    }

    /// <summary>Reports a piece success once reports are allowed; skips it when the registration it belonged to was replaced.</summary>
    private static async Task ReportSuccessAsync(RunState run, PieceTask piece, bool alreadyOnDisk)
    {
        if (await run.SuccessReportsAllowed.WaitAsync(run.Token).ConfigureAwait(false))
        {
            await run.Context.Session.ReportPieceSuccessAsync(piece, alreadyOnDisk, run.Token).ConfigureAwait(false);
        }
    }

    private void Schedule(RunState run, PieceTask piece)
    {
        if (piece.PieceNum != piece.Range.PieceNum || piece.PieceSize != piece.Range.Length)
        {
            run.Reports.Writer.TryWrite(new PullReport(ClientTaskStatus.Running, ClientPieceResult.Fail, piece.Range, piece.OwnerId));
            return;
        }

        if (run.Completed.ContainsKey(piece.PieceNum))
        {
            // Already on disk (after a migration or a rejoin): tell the supernode instead of downloading again, saying no
            // uploader served it.
            run.TrackReport(ReportSuccessAsync(run, piece, alreadyOnDisk: true));
            run.Reports.Writer.TryWrite(new PullReport(ClientTaskStatus.Running, ClientPieceResult.SemiSuccess, piece.Range, piece.OwnerId, AlreadyOnDisk: true));
            return;
        }

        if (!run.Running.TryAdd(piece.PieceNum, 0))
        {
            return;
        }

        run.Fetches.Add(Task.Run(() => FetchOneAsync(run, piece)));
    }

    private async Task FetchOneAsync(RunState run, PieceTask piece)
    {
        var token = run.Token;
        var context = run.Context;
        PieceFetchResult result;
        try
        {
            await run.Concurrency.WaitAsync(token).ConfigureAwait(false);
            try
            {
                result = await fetcher.FetchAsync(piece, new PieceFetchTarget(context.File, context.SourceLength, context.MinRate, context.Limiter), token).ConfigureAwait(false);
                if (result is PieceFetchResult.Success success)
                {
                    if (success.Unchecked)
                    {
                        Interlocked.Increment(ref run.UncheckedPieces);
                    }

                    var completed = context.Stats.AddPiece(piece, success.ContentOffset, success.ContentLength);
                    run.Completed[piece.PieceNum] = (success.ContentOffset, success.ContentLength);
                    context.Progress?.Report(new DownloadProgress(
                        DownloadProgressKind.PieceCompleted, context.SourceLength, completed, piece.PieceNum, piece.PieceSize,
                        success.ContentOffset, success.ContentLength, context.File.Path));
                }
            }
            finally
            {
                run.Concurrency.Release();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            run.Running.TryRemove(piece.PieceNum, out _);
            return;
        }
        catch (IOException e)
        {
            result = new PieceFetchResult.WriteFailed(DiskErrors.IsNoSpace(e), e.Message);
        }

        switch (result)
        {
            case PieceFetchResult.Success success:
                Log.PieceDone(logger, piece.PieceNum, piece.PeerKey);
                run.TrackReport(ReportSuccessAsync(run, piece, alreadyOnDisk: false));
                run.Running.TryRemove(piece.PieceNum, out _);
                run.Reports.Writer.TryWrite(new PullReport(ClientTaskStatus.Running, ClientPieceResult.SemiSuccess, piece.Range, piece.OwnerId));

                // The whole-file md5 advances over the in-order prefix after the fetch slot is free and the piece is
                // reported, so hashing never holds back the next fetch or other peers.
                await HashAsync(run, piece.PieceNum, success).ConfigureAwait(false);
                return;
            case PieceFetchResult.WriteFailed writeFailed:
                Log.PieceFailed(logger, piece.PieceNum, piece.PeerKey, writeFailed.Message);
                run.Fatal = writeFailed;
                break;
            case PieceFetchResult.NotFound notFound:
                Log.PieceFailed(logger, piece.PieceNum, piece.PeerKey, notFound.Message);
                await IgnoreCancel(context.Session.ReportPieceErrorAsync(piece, PieceErrorKind.FileNotExist, null, token)).ConfigureAwait(false);
                break;
            case PieceFetchResult.Md5Mismatch mismatch:
                Log.PieceFailed(logger, piece.PieceNum, piece.PeerKey, mismatch.Message);
                await IgnoreCancel(context.Session.ReportPieceErrorAsync(piece, PieceErrorKind.FileMd5NotMatch, mismatch.RealMd5, token)).ConfigureAwait(false);
                break;
            case PieceFetchResult.Failed failed:
                Log.PieceFailed(logger, piece.PieceNum, piece.PeerKey, failed.Message);
                break;
        }

        try
        {
            await Task.Delay(RequeueDelay, timeProvider, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        run.Running.TryRemove(piece.PieceNum, out _);
        run.Reports.Writer.TryWrite(new PullReport(ClientTaskStatus.Running, ClientPieceResult.Fail, piece.Range, piece.OwnerId));
    }

    private static async Task HashAsync(RunState run, int pieceNum, PieceFetchResult.Success success)
    {
        if (run.Context.Hasher is not { } hasher)
        {
            return;
        }

        try
        {
            await hasher.OnPieceWrittenAsync(pieceNum, success.ContentOffset, success.ContentLength, run.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (run.Token.IsCancellationRequested)
        {
        }
        catch (IOException e)
        {
            run.Fatal = new PieceFetchResult.WriteFailed(DiskErrors.IsNoSpace(e), e.Message);
        }
    }

    private async Task<PullReport> NextReportAsync(RunState run)
    {
        if (run.Reports.Reader.TryRead(out var report))
        {
            return report;
        }

        if (run.Running.IsEmpty)
        {
            return await WaitAsync(run, 0).ConfigureAwait(false);
        }

        return await run.Reports.Reader.ReadAsync(run.Token).ConfigureAwait(false);
    }

    /// <summary>Sleeps a random 50–100 ms × 2^level, or until a piece completes; returns that piece's report or an idle one.</summary>
    private async Task<PullReport> WaitAsync(RunState run, int level)
    {
        if (run.Reports.Reader.TryRead(out var report))
        {
            return report;
        }

        int ms;
        lock (run.Context.Random)
        {
            ms = run.Context.Random.Next(50 << level, (100 << level) + 1);
        }

        using (var waitCts = CancellationTokenSource.CreateLinkedTokenSource(run.Token))
        {
            var delay = Task.Delay(TimeSpan.FromMilliseconds(ms), timeProvider, waitCts.Token);
            var woken = run.Reports.Reader.WaitToReadAsync(waitCts.Token).AsTask();
            await Task.WhenAny(delay, woken).ConfigureAwait(false);
            await waitCts.CancelAsync().ConfigureAwait(false);
        }

        run.Token.ThrowIfCancellationRequested();
        return run.Reports.Reader.TryRead(out report) ? report : PullReport.Idle;
    }

    private static async Task IgnoreCancel(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class RunState(P2PContext context, CancellationToken token, SemaphoreSlim concurrency)
    {
        private readonly ConcurrentBag<Task> _reports = [];

        public P2PContext Context { get; } = context;

        public CancellationToken Token { get; } = token;

        public SemaphoreSlim Concurrency { get; } = concurrency;

        public ConcurrentDictionary<int, byte> Running { get; } = new();

        public ConcurrentBag<Task> Fetches { get; } = [];

        /// <summary>The pieces on disk: their numbers, and where their content lies in the file.</summary>
        public ConcurrentDictionary<int, (long Offset, int Length)> Completed { get; } = new();

        public Channel<PullReport> Reports { get; } = Channel.CreateUnbounded<PullReport>(new UnboundedChannelOptions { SingleReader = true });

        public volatile PieceFetchResult.WriteFailed? Fatal;

        /// <summary>Pieces accepted without a piece md5 (counted with <see cref="Interlocked"/>).</summary>
        public int UncheckedPieces;

        /// <summary>Registrations again with a supernode that forgot this download (read and written by the loop only).</summary>
        public int Rejoins { get; set; }

        /// <summary>Recoveries in a row with no piece completed since the one before (read and written by the loop only).</summary>
        public int FruitlessRecoveries { get; set; }

        /// <summary>How many pieces were complete at the last recovery (read and written by the loop only).</summary>
        public int CompletedAtLastRecovery { get; set; } = -1;

        /// <summary>The piece size <see cref="Completed"/>'s numbers mean (read and written by the loop only).</summary>
        public int PieceSize { get; set; } = context.Session.Current?.PieceSize ?? 0;

        /// <summary>The uploader still to wait for before the first success report (read and cleared by the loop only).</summary>
        public AdvertisedUploader? Pending { get; set; } = context.PendingUploader;

        /// <summary>Completes with whether piece successes may be reported under the current registration.</summary>
        public Task<bool> SuccessReportsAllowed
        {
            get => Volatile.Read(ref _successReportsAllowed);
            set => Volatile.Write(ref _successReportsAllowed, value);
        }

        private Task<bool> _successReportsAllowed = context.PendingUploader?.Serving ?? Task.FromResult(true);

        public void TrackReport(Task task) => _reports.Add(task);

        public Task WaitRunningAsync() => IgnoreCancel(Task.WhenAll(Fetches));

        public Task WaitReportsAsync() => IgnoreCancel(Task.WhenAll(_reports));

        public async Task DrainAsync()
        {
            await WaitRunningAsync().ConfigureAwait(false);
            await WaitReportsAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2200, LogLevel.Debug, "Piece {PieceNum} downloaded from {Peer}")]
        public static partial void PieceDone(ILogger logger, int pieceNum, string peer);

        [LoggerMessage(2201, LogLevel.Warning, "Piece {PieceNum} from {Peer} failed: {Error}")]
        public static partial void PieceFailed(ILogger logger, int pieceNum, string peer, string error);

        [LoggerMessage(2202, LogLevel.Warning, "Pull failed with code {Code}: {Message}")]
        public static partial void PullFailed(ILogger logger, int code, string message);

        [LoggerMessage(2206, LogLevel.Warning, "No supernode reachable; trying to register again for up to {Seconds} s")]
        public static partial void Recovering(ILogger logger, double seconds);

        [LoggerMessage(2203, LogLevel.Information, "Registered again with supernode {Node}")]
        public static partial void Migrated(ILogger logger, string node);

        [LoggerMessage(2207, LogLevel.Warning, "The supernode no longer knows this download; registering with it again ({Rejoin} of {Max})")]
        public static partial void Rejoining(ILogger logger, int rejoin, int max);

        [LoggerMessage(2208, LogLevel.Warning, "The new registration cuts the file in {NewSize}-byte pieces, not {OldSize}: the {Count} pieces on disk are fetched again")]
        public static partial void PieceSizeChanged(ILogger logger, int oldSize, int newSize, int count);

        [LoggerMessage(2204, LogLevel.Warning, "Registering again as a {Pattern} peer with uploader port {Port}")]
        public static partial void ReRegistering(ILogger logger, string pattern, int port);
    }
}
