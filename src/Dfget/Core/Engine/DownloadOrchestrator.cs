using System.Globalization;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Identity;
using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Dfget.Downloading;
using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Uploader;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Engine;

/// <summary>
/// The download flow: prepare (sign, cid, temp file, local IP) → uploader (p2p) → register → pull pieces → verify md5 →
/// publish atomically → metrics; any P2P failure goes back to the origin unless <c>--notbs</c>. A new uploader starts
/// while the download registers and fetches its first pieces; the first success report waits for it (<see cref="AdvertisedUploader"/>).
/// Stateless between downloads (safe to run many at once, as dfdaemon does).
/// </summary>
public sealed partial class DownloadOrchestrator : IDownloadEngine
{
    private readonly ISupernodeSessionFactory _sessions;
    private readonly IUploaderLauncher _launcher;
    private readonly ILocalIpResolver _ipResolver;
    private readonly P2PDownloader _p2p;
    private readonly BackSourceDownloader _backSource;
    private readonly TimeProvider _timeProvider;
    private readonly Md5Batcher _md5Batcher;
    private readonly IRandomFactory _randomFactory;
    private readonly ServiceWithdrawal _withdrawal;
    private readonly ILogger _logger;
    private long _lastSignMillis;

    public DownloadOrchestrator(
        ISupernodeSessionFactory sessions,
        IUploaderLauncher launcher,
        ILocalIpResolver ipResolver,
        PieceFetcher fetcher,
        Md5Batcher md5Batcher,
        BackSourceDownloader backSource,
        TimeProvider timeProvider,
        IRandomFactory randomFactory,
        ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentNullException.ThrowIfNull(launcher);
        ArgumentNullException.ThrowIfNull(ipResolver);
        ArgumentNullException.ThrowIfNull(fetcher);
        ArgumentNullException.ThrowIfNull(md5Batcher);
        ArgumentNullException.ThrowIfNull(backSource);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(randomFactory);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _sessions = sessions;
        _launcher = launcher;
        _ipResolver = ipResolver;
        _p2p = new P2PDownloader(fetcher, timeProvider, loggerFactory.CreateLogger<P2PDownloader>());
        _md5Batcher = md5Batcher;
        _backSource = backSource;
        _timeProvider = timeProvider;
        _randomFactory = randomFactory;
        _logger = loggerFactory.CreateLogger<DownloadOrchestrator>();
        _withdrawal = new ServiceWithdrawal(launcher, timeProvider, _logger);
    }

    public async Task<DownloadResult> DownloadAsync(DownloadRequest request, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var started = _timeProvider.GetTimestamp();
        var timeout = request.EffectiveTimeout(-1);
        using var timeoutCts = new CancellationTokenSource(timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        var run = new RunState(request, progress, timeoutCts, _randomFactory.Create(), NextSign()) { Started = started };
        Log.Starting(_logger, request.Url, request.Output, run.Sign);
        DownloadResult result;
        try
        {
            result = await RunAsync(run, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var seconds = (run.Timeout ?? timeout).TotalSeconds.ToString(CultureInfo.InvariantCulture);
            result = run.Fail(DfgetErrorCode.Download, (int)run.Reason + (request.NotBackSource ? 1000 : 0), $"download timeout({seconds}s)");
        }
        finally
        {
            // Cancelled or timed out while serving pieces: take the file back from the supernode and the uploader first.
            await WithdrawServiceAsync(run).ConfigureAwait(false);
            run.Cleanup();
        }

        result = result with { Duration = _timeProvider.GetElapsedTime(started) };
        Log.Finished(_logger, request.Url, result.Success, result.BackSourceReason, result.Message);
        return result;
    }

    private async Task<DownloadResult> RunAsync(RunState run, CancellationToken token)
    {
        var request = run.Request;
        string outputFull;
        try
        {
            outputFull = Path.GetFullPath(request.Output);
            var targetDir = Path.GetDirectoryName(outputFull) ?? throw new IOException($"{request.Output} has no directory");
            Directory.CreateDirectory(targetDir);
            run.TargetDir = targetDir;
            run.TempTarget = Path.Combine(targetDir, $"dfget-{run.Sign}.tmp-{run.Random.Next():x8}");

            // The original creates its temp file here: an output directory nobody may write to fails now, with the
            // prepare error, not after the whole file has been fetched (and then again from the origin).
            using (new FileStream(run.TempTarget, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return run.Fail(DfgetErrorCode.Prepare, 0, $"prepare target: {e.Message}");
        }

        if (request.Pattern == DownloadPattern.Source)
        {
            return await BackSourceAsync(run, BackSourceReason.UserSpecified, string.Empty, token).ConfigureAwait(false);
        }

        if (request.Nodes is null || request.Nodes.Nodes.Count == 0)
        {
            return await FallBackOrFailAsync(run, BackSourceReason.NodeEmpty, "node list is empty", token).ConfigureAwait(false);
        }

        try
        {
            request.WorkHome.EnsureCreated();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return run.Fail(DfgetErrorCode.Prepare, 0, $"prepare work home {request.WorkHome.Root}: {e.Message}");
        }

        var order = request.Nodes.Expand(run.Random);
        var localIp = request.BindIp ?? await _ipResolver.ResolveAsync(order, token).ConfigureAwait(false);
        run.LocalIp = localIp;
        var cid = Cid.ForClient(localIp, run.Sign).Value;
        var taskFileName = Path.GetFileName(outputFull) + "-" + run.Sign;
        var pattern = request.Pattern;
        var launch = UploaderLaunch.None;
        var launchRequest = new UploaderLaunchRequest(
            request.WorkHome, localIp, request.Port, taskFileName, request.TotalLimit.BytesPerSecond, request.ExpireTime, request.AliveTime, request.Verbose);
        if (pattern == DownloadPattern.P2p)
        {
            // Its own token: a withdrawal stops a launch still starting, also when the download goes on from the origin.
            run.LaunchCancellation = CancellationTokenSource.CreateLinkedTokenSource(token);
            launch = await LaunchUploaderAsync(launchRequest, run.LaunchCancellation.Token).ConfigureAwait(false);
            if (launch.Port == 0)
            {
                pattern = DownloadPattern.Cdn;
            }
        }

        var info = new RegistrationInfo
        {
            RawUrl = request.Url.OriginalString,
            TaskUrl = TaskIdentity.FilterUrl(request.Url.OriginalString, request.Filter),
            Cid = cid,
            Ip = localIp,
            HostName = Environment.MachineName,
            Port = launch.Port,
            Path = "/peer/file/" + taskFileName,
            Md5 = request.Md5,
            Identifier = request.Identifier,
            CallSystem = request.CallSystem,
            Headers = request.Headers,
            Filter = request.Filter,
            Dfdaemon = request.Dfdaemon,
            Insecure = request.Insecure,
            RootCAs = request.CaCerts,
            Pattern = pattern == DownloadPattern.P2p ? "p2p" : "cdn",
        };
        var session = _sessions.Create(order, info, run.Random);
        var uploader = pattern == DownloadPattern.P2p ? new AdvertisedUploader(_launcher, launchRequest, launch, info, _logger) : null;

        // From here on the uploader may have the name registered (or register it once it starts): withdrawn if given up.
        run.Advertised = uploader is null ? null : new AdvertisedService(session, uploader, taskFileName, run.LaunchCancellation!);
        var registered = await session.RegisterAsync(token).ConfigureAwait(false);
        if (registered is not RegisterOutcome.Registered { Registration: var registration })
        {
            var failed = (RegisterOutcome.Failed)registered;
            return await FallBackOrFailAsync(run, BackSourceReason.RegisterFail, failed.Message, token).ConfigureAwait(false);
        }

        run.Registration = registration;
        if (request.Timeout == TimeSpan.Zero && registration.FileLength >= 0)
        {
            run.Timeout = request.EffectiveTimeout(registration.FileLength);
            run.TimeoutCts.CancelAfter(run.Timeout.Value);
        }

        var piecePath = pattern == DownloadPattern.P2p ? request.WorkHome.ServiceFilePath(taskFileName) : run.TempTarget!;
        run.Progress?.Report(new DownloadProgress(
            DownloadProgressKind.Registered, registration.FileLength, 0, PieceSize: registration.PieceSize, FilePath: piecePath, Node: registration.Node.HostPort, LocalIp: localIp, Sign: run.Sign));
        var p2p = await RunP2PAsync(run, session, registration, piecePath, uploader, outputFull, token).ConfigureAwait(false);
        var metrics = new DownloadMetricsReport(p2p.Success, _timeProvider.GetElapsedTime(run.Started), (int)p2p.Reason, p2p.Length, request.CallSystem);
        await session.ReportMetricsAsync(metrics, token).ConfigureAwait(false);
        if (p2p.Success)
        {
            if (p2p.Served)
            {
                await NotifyUploaderAsync(uploader!.Port, localIp, taskFileName, session.Current ?? registration, cid, token).ConfigureAwait(false);
            }

            return run.Succeed(0, p2p.Length);
        }

        return await FallBackOrFailAsync(run, p2p.Reason, p2p.Message, token).ConfigureAwait(false);
    }

    /// <param name="uploader">The uploader of a p2p download; null for a cdn peer.</param>
    private async Task<P2PRunResult> RunP2PAsync(
        RunState run, ISupernodeSession session, SupernodeRegistration registration, string piecePath, AdvertisedUploader? uploader, string output, CancellationToken token)
    {
        var pattern = uploader is null ? DownloadPattern.Cdn : DownloadPattern.P2p;
        var request = run.Request;
        PieceFile file;
        try
        {
            file = PieceFile.Create(piecePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return P2PRunResult.Failed(BackSourceReason.InitError, $"create {piecePath}: {e.Message}", -1);
        }

        if (pattern == DownloadPattern.P2p)
        {
            run.ServiceFile = piecePath;
        }

        long length;
        using (file)
        {
            using var hasher = request.CallerVerifiesContent && string.IsNullOrEmpty(request.Md5) ? null : new OrderedFileHasher(file, _md5Batcher);
            using var limiter = new DownloadRateLimiter(request.LocalLimit);
            var context = new P2PContext(
                session, file, hasher, registration.FileLength, request.MinRate, limiter, run.Random, request.ClientQueue, run.Stats, run.Progress,
                uploader is { IsPending: true } ? uploader : null,
                request.SupernodeRecovery);
            var outcome = await _p2p.RunAsync(context, token).ConfigureAwait(false);
            if (outcome is P2POutcome.Failed failed)
            {
                return P2PRunResult.Failed(failed.Reason, failed.Message, -1);
            }

            var finished = (P2POutcome.Finished)outcome;
            var current = session.Current ?? registration;
            if (FinishedLength(current, finished.WrappedLength) is not { } known)
            {
                return P2PRunResult.Failed(
                    BackSourceReason.DownloadError,
                    string.Create(CultureInfo.InvariantCulture, $"supernode finished with file length {finished.WrappedLength}, which does not fit the registered length {current.FileLength}"),
                    -1);
            }

            length = known;
            if (finished.FirstHole(length) is { } hole)
            {
                // A supernode finishes a download once every piece is reported; a file with a hole is no result.
                return P2PRunResult.Failed(
                    BackSourceReason.DownloadError,
                    string.Create(CultureInfo.InvariantCulture, $"the supernode said the download finished, but no piece wrote byte {hole} of {length}"),
                    length);
            }

            try
            {
                file.SetLength(length);
                if (hasher is not null)
                {
                    var real = await hasher.FinishAsync(length, token).ConfigureAwait(false);
                    var expected = string.IsNullOrEmpty(request.Md5) ? finished.Md5 : request.Md5;
                    if (string.IsNullOrEmpty(expected) && finished.UncheckedPieces > 0)
                    {
                        // Nothing vouches for those bytes: a supernode that gives neither piece md5s nor the file's md5
                        // (never ours, nor the original) would otherwise make any bytes a peer sent the download's result.
                        return P2PRunResult.Failed(
                            BackSourceReason.DownloadError,
                            string.Create(CultureInfo.InvariantCulture, $"{finished.UncheckedPieces} pieces came without an md5 and the supernode gave no md5 of the file to check them by"),
                            length);
                    }

                    if (!string.IsNullOrEmpty(expected) && !string.Equals(expected, real, StringComparison.OrdinalIgnoreCase))
                    {
                        return P2PRunResult.Failed(BackSourceReason.Md5NotMatch, $"md5 not match, expected:{expected} real:{real}", length);
                    }
                }
            }
            catch (IOException e)
            {
                return P2PRunResult.Failed(DiskErrors.IsNoSpace(e) ? BackSourceReason.NoSpace : BackSourceReason.WriteError, e.Message, length);
            }
            catch (InvalidOperationException e)
            {
                // The file md5 ran past the length the finish gave: the pieces and the finish disagree.
                return P2PRunResult.Failed(BackSourceReason.DownloadError, e.Message, length);
            }
        }

        // Normally settled by the first success report; a download that had none (an empty file) waits here.
        var served = uploader is not null && await uploader.Serving.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (pattern == DownloadPattern.P2p)
            {
                await TargetPublisher.PublishLinkAsync(piecePath, output, run.TempTarget!, token).ConfigureAwait(false);
                if (served)
                {
                    // Handed over: the uploader serves the file until it expires.
                    run.ServiceFile = null;
                    run.Advertised = null;
                }
            }
            else
            {
                TargetPublisher.PublishMove(piecePath, output);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return P2PRunResult.Failed(DiskErrors.IsNoSpace(e) ? BackSourceReason.NoSpace : BackSourceReason.WriteError, $"move to {output}: {e.Message}", -1);
        }

        // Not served: the .service file (run.ServiceFile) is deleted on cleanup, the output keeps its own link to the data.
        return new P2PRunResult(true, BackSourceReason.None, string.Empty, length, served);
    }

    /// <summary>How the P2P part of a download ended.</summary>
    /// <param name="Served">The file stays in the data dir for the uploader (p2p, and the uploader serves).</param>
    private readonly record struct P2PRunResult(bool Success, BackSourceReason Reason, string Message, long Length, bool Served)
    {
        public static P2PRunResult Failed(BackSourceReason reason, string message, long length) => new(false, reason, message, length, false);
    }

    /// <summary>
    /// The source length of a finished download: the registered length when the supernode knew it (the finish must then
    /// agree: its wrapped length, or the source length itself as a "source"-pattern supernode gives it), else the source
    /// length the finish's wrapped length stands for. Null when the two disagree or neither is known.
    /// </summary>
    internal static long? FinishedLength(SupernodeRegistration registration, long finishedLength)
    {
        var registered = registration.FileLength;
        if (registered >= 0)
        {
            return finishedLength < 0 || finishedLength == registered || finishedLength == PieceLayout.WrappedLength(registered, registration.PieceSize)
                ? registered
                : null;
        }

        return PieceLayout.SourceLengthFromWrapped(finishedLength, registration.PieceSize) is var source and >= 0 ? source : null;
    }

    private async Task<DownloadResult> FallBackOrFailAsync(RunState run, BackSourceReason reason, string message, CancellationToken token)
    {
        run.Reason = reason;
        await WithdrawServiceAsync(run).ConfigureAwait(false);
        if (run.Request.NotBackSource || reason == BackSourceReason.NoSpace)
        {
            return run.Fail(DfgetErrorCode.Download, (int)reason + (int)BackSourceReason.ForbiddenOffset, message);
        }

        Log.BackSource(_logger, run.Request.Url, (int)reason, message);
        return await BackSourceAsync(run, reason, message, token).ConfigureAwait(false);
    }

    /// <summary>
    /// Gives up the download's <c>.service</c> file, if it still has one: deletes it, and takes back what it advertised
    /// (a launch still starting is stopped; the supernodes and the uploader are told what they know of it), within
    /// <see cref="ServiceWithdrawal.Budget"/>. Once per download; nothing once the file was handed over to the uploader.
    /// </summary>
    private async Task WithdrawServiceAsync(RunState run)
    {
        var advertised = run.Advertised;
        run.Advertised = null;
        run.DeleteServiceFile();
        if (advertised is not null)
        {
            await _withdrawal.WithdrawAsync(advertised, run.LocalIp!).ConfigureAwait(false);
        }
    }

    private async Task<DownloadResult> BackSourceAsync(RunState run, BackSourceReason reason, string p2pMessage, CancellationToken token)
    {
        run.Reason = reason;
        var tempPath = Path.Combine(run.TargetDir!, $"backsource.{run.Sign}.{run.Random.Next():x8}");
        run.BackSourceTemp = tempPath;
        using var limiter = new DownloadRateLimiter(run.Request.LocalLimit);
        var result = await _backSource.DownloadAsync(run.Request, tempPath, limiter, run.Stats, run.Progress, token).ConfigureAwait(false);
        return result switch
        {
            BackSourceResult.Success success => run.Succeed((int)reason, success.Length),
            BackSourceResult.Failed { NoSpace: true } noSpace => run.Fail(DfgetErrorCode.Download, (int)BackSourceReason.NoSpace, noSpace.Message),
            BackSourceResult.Failed failed => run.Fail(
                DfgetErrorCode.Download, (int)reason, string.IsNullOrEmpty(p2pMessage) ? failed.Message : $"{failed.Message} (after: {p2pMessage})"),
            _ => throw new InvalidOperationException("unknown back-source result"),
        };
    }

    private async Task<UploaderLaunch> LaunchUploaderAsync(UploaderLaunchRequest launch, CancellationToken token)
    {
        try
        {
            var launched = await _launcher.LaunchAsync(launch, token).ConfigureAwait(false);

            // Already known not to serve (the process could not even be spawned): register as a cdn peer straight away.
            return launched.Serving.IsCompletedSuccessfully && !await launched.Serving.ConfigureAwait(false) ? UploaderLaunch.None : launched;
        }
        catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
        {
            Log.UploaderFailed(_logger, e.Message);
            return UploaderLaunch.None;
        }
    }

    private async Task NotifyUploaderAsync(int port, string ip, string taskFileName, SupernodeRegistration registration, string cid, CancellationToken token)
    {
        try
        {
            await _launcher.NotifyFinishedAsync(port, ip, taskFileName, registration.TaskId, cid, registration.Node.HostPort, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
        {
            Log.UploaderFailed(_logger, e.Message);
        }
    }

    /// <summary>A sign unique within this engine even for downloads started in the same millisecond.</summary>
    private string NextSign()
    {
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        long last, next;
        do
        {
            last = Interlocked.Read(ref _lastSignMillis);
            next = Math.Max(now, last + 1);
        }
        while (Interlocked.CompareExchange(ref _lastSignMillis, next, last) != last);

        return Cid.Sign(Environment.ProcessId, DateTimeOffset.FromUnixTimeMilliseconds(next));
    }

    /// <summary>Per-download mutable state: never shared between downloads, never written into the request.</summary>
    private sealed class RunState(DownloadRequest request, IProgress<DownloadProgress>? progress, CancellationTokenSource timeoutCts, Random random, string sign)
    {
        public DownloadRequest Request { get; } = request;

        public IProgress<DownloadProgress>? Progress { get; } = progress;

        public CancellationTokenSource TimeoutCts { get; } = timeoutCts;

        public Random Random { get; } = random;

        public string Sign { get; } = sign;

        public long Started { get; init; }

        public DownloadStats Stats { get; } = new();

        public BackSourceReason Reason { get; set; }

        public TimeSpan? Timeout { get; set; }

        public string? TargetDir { get; set; }

        public string? TempTarget { get; set; }

        public string? BackSourceTemp { get; set; }

        public string? ServiceFile { get; set; }

        /// <summary>What a p2p download advertises (its uploader and session); null for a cdn peer, once withdrawn or handed over.</summary>
        public AdvertisedService? Advertised { get; set; }

        /// <summary>Cancels the uploader launch of a p2p download.</summary>
        public CancellationTokenSource? LaunchCancellation { get; set; }

        public SupernodeRegistration? Registration { get; set; }

        public string? LocalIp { get; set; }

        public DownloadResult Succeed(int reason, long length) => new()
        {
            Success = true,
            BackSourceReason = reason,
            Length = length,
            TaskId = Registration?.TaskId,
            Supernode = Registration?.Node.HostPort,
            Sign = Sign,
            LocalIp = LocalIp,
            Bytes = Stats.ToAccounting(),
        };

        public DownloadResult Fail(DfgetErrorCode code, int reason, string message) => new()
        {
            Success = false,
            ErrorCode = code,
            BackSourceReason = reason,
            Message = message,
            TaskId = Registration?.TaskId,
            Supernode = Registration?.Node.HostPort,
            Sign = Sign,
            LocalIp = LocalIp,
            Bytes = Stats.ToAccounting(),
        };

        public void DeleteServiceFile()
        {
            TargetPublisher.TryDelete(ServiceFile);
            ServiceFile = null;
        }

        public void Cleanup()
        {
            TargetPublisher.TryDelete(TempTarget);
            TargetPublisher.TryDelete(BackSourceTemp);
            DeleteServiceFile();
            LaunchCancellation?.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2000, LogLevel.Information, "Downloading {Url} to {Output}, sign {Sign}")]
        public static partial void Starting(ILogger logger, Uri url, string output, string sign);

        [LoggerMessage(2001, LogLevel.Information, "Download of {Url} finished: success {Success}, reason {Reason} {Message}")]
        public static partial void Finished(ILogger logger, Uri url, bool success, int reason, string message);

        [LoggerMessage(2002, LogLevel.Warning, "Downloading {Url} from source, reason {Reason}: {Message}")]
        public static partial void BackSource(ILogger logger, Uri url, int reason, string message);

        [LoggerMessage(2003, LogLevel.Warning, "Uploader unavailable, continuing as a cdn peer: {Error}")]
        public static partial void UploaderFailed(ILogger logger, string error);
    }
}
