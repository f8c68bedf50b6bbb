using System.Collections.Concurrent;
using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Nodes;
using Dragonfly.Common.Pieces;
using Dragonfly.Dfget.Registration;

namespace Dragonfly.Dfget.Tests.Engine;

/// <summary>
/// A fake supernode session that schedules like the real one: pieces not yet reported done and not running are handed out,
/// up to 4 at a time; finished when every piece is reported (SEMISUC). <see cref="Script"/> overrides outcomes in order.
/// </summary>
public sealed class ScriptedSupernodeSession : ISupernodeSession
{
    private readonly object _gate = new();
    private readonly HashSet<int> _done = [];
    private readonly HashSet<int> _running = [];

    public ScriptedSupernodeSession(IReadOnlyList<PieceTask> pieces, string? md5, long sourceLength, int pieceSize)
    {
        Pieces = pieces;
        Md5 = md5;
        SourceLength = sourceLength;
        PieceSize = pieceSize;
    }

    public IReadOnlyList<PieceTask> Pieces { get; set; }

    public string? Md5 { get; set; }

    public long SourceLength { get; }

    public int PieceSize { get; }

    public RegisterOutcome? RegisterResult { get; set; }

    /// <summary>The file length the finish (600) gives; null = the wrapped length, as a caching supernode gives it.</summary>
    public long? FinishedFileLength { get; set; }

    public RegisterOutcome? MigrateResult { get; set; }

    public RegisterOutcome? ReRegisterResult { get; set; }

    public RegisterOutcome? RecoverResult { get; set; }

    /// <summary>What <see cref="RejoinAsync"/> answers; null: registered again with the current node.</summary>
    public RegisterOutcome? RejoinResult { get; set; }

    /// <summary>Whether a rejoin starts the task afresh on the supernode's side (nothing done), as a node that forgot it does.</summary>
    public bool RejoinForgetsProgress { get; set; } = true;

    /// <summary>The windows <see cref="RecoverAsync"/> was called with.</summary>
    public ConcurrentQueue<TimeSpan> RecoverWindows { get; } = new();

    /// <summary>The infos of <see cref="ReRegisterAsync"/> calls, each with the pull and success reports made before it.</summary>
    public ConcurrentQueue<(RegistrationInfo Info, int PullsBefore, int SuccessesBefore)> ReRegistrations { get; } = new();

    /// <summary>Outcomes returned before scheduling (null entries mean "schedule normally").</summary>
    public ConcurrentQueue<Func<PullReport, PullOutcome?>> Script { get; } = new();

    public ConcurrentQueue<PullReport> PullReports { get; } = new();

    /// <summary>Every piece success report, fetched or found on disk.</summary>
    public ConcurrentQueue<PieceTask> SuccessReports { get; } = new();

    /// <summary>The success reports of pieces found on disk rather than fetched.</summary>
    public ConcurrentQueue<PieceTask> AlreadyOnDiskReports { get; } = new();

    public ConcurrentQueue<(PieceTask Piece, PieceErrorKind Kind, string? RealMd5)> ErrorReports { get; } = new();

    public ConcurrentQueue<DownloadMetricsReport> Metrics { get; } = new();

    public int RegisterCalls { get; private set; }

    public int MigrateCalls { get; private set; }

    public int RejoinCalls { get; private set; }

    public int ServiceDownCalls { get; private set; }

    public SupernodeRegistration? Current { get; private set; }

    public RegistrationInfo? Info { get; set; }

    public SupernodeRegistration DefaultRegistration(string node = "127.0.0.1") =>
        new(new SupernodeAddress(node, 8002, 1), SupernodeApiKind.Legacy, new string('a', 64), SourceLength, PieceSize, false, null);

    public Task<RegisterOutcome> RegisterAsync(CancellationToken cancellationToken)
    {
        RegisterCalls++;
        var outcome = RegisterResult ?? new RegisterOutcome.Registered(DefaultRegistration());
        if (outcome is RegisterOutcome.Registered r)
        {
            Current = r.Registration;
        }

        return Task.FromResult(outcome);
    }

    public Task<RegisterOutcome> RecoverAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        RecoverWindows.Enqueue(window);
        return Task.FromResult(Adopt(RecoverResult ?? new RegisterOutcome.Failed(-100, "no supernode came back")));
    }

    /// <summary>Whether a migration lands on a supernode that knows none of the pieces done so far, as another node does.</summary>
    public bool MigrateForgetsProgress { get; set; }

    public Task<RegisterOutcome> MigrateAsync(CancellationToken cancellationToken)
    {
        MigrateCalls++;
        var outcome = Adopt(MigrateResult ?? new RegisterOutcome.Failed(-100, "no other supernode"));
        if (outcome is RegisterOutcome.Registered && MigrateForgetsProgress)
        {
            lock (_gate)
            {
                _done.Clear();
            }
        }

        return Task.FromResult(outcome);
    }

    public Task<RegisterOutcome> RejoinAsync(CancellationToken cancellationToken)
    {
        RejoinCalls++;
        var outcome = Adopt(RejoinResult ?? new RegisterOutcome.Registered(Current ?? DefaultRegistration()));
        if (outcome is RegisterOutcome.Registered && RejoinForgetsProgress)
        {
            lock (_gate)
            {
                _done.Clear();
            }
        }

        return Task.FromResult(outcome);
    }

    /// <summary>A new registration: the new supernode knows nothing of the pieces that were running.</summary>
    private RegisterOutcome Adopt(RegisterOutcome outcome)
    {
        if (outcome is RegisterOutcome.Registered r)
        {
            Current = r.Registration;
            lock (_gate)
            {
                _running.Clear();
            }
        }

        return outcome;
    }

    /// <summary>Like the real supernode: a new registration of the same cid starts from no pieces done or running.</summary>
    public Task<RegisterOutcome> ReRegisterAsync(RegistrationInfo info, CancellationToken cancellationToken)
    {
        ReRegistrations.Enqueue((info, PullReports.Count, SuccessReports.Count));
        var outcome = ReRegisterResult ?? new RegisterOutcome.Registered(DefaultRegistration());
        if (outcome is RegisterOutcome.Registered r)
        {
            Info = info;
            Current = r.Registration;
            lock (_gate)
            {
                _running.Clear();
                _done.Clear();
            }
        }

        return Task.FromResult(outcome);
    }

    public Task<PullOutcome> PullAsync(PullReport report, CancellationToken cancellationToken)
    {
        PullReports.Enqueue(report);
        lock (_gate)
        {
            if (report.Range is { } range)
            {
                _running.Remove(range.PieceNum);
                if (report.Result is ClientPieceResult.SemiSuccess or ClientPieceResult.Success)
                {
                    _done.Add(range.PieceNum);
                }
            }
        }

        if (Script.TryDequeue(out var scripted) && scripted(report) is { } forced)
        {
            return Task.FromResult(forced);
        }

        lock (_gate)
        {
            if (_done.Count >= Pieces.Count)
            {
                return Task.FromResult<PullOutcome>(new PullOutcome.Finished(Md5, FinishedFileLength ?? PieceLayout.WrappedLength(SourceLength, PieceSize)));
            }

            var free = Pieces.Where(p => !_done.Contains(p.PieceNum) && !_running.Contains(p.PieceNum)).Take(4 - _running.Count).ToList();
            if (free.Count == 0)
            {
                return Task.FromResult<PullOutcome>(new PullOutcome.Wait("nothing"));
            }

            foreach (var piece in free)
            {
                _running.Add(piece.PieceNum);
            }

            return Task.FromResult<PullOutcome>(new PullOutcome.Continue(free));
        }
    }

    public Task ReportPieceSuccessAsync(PieceTask piece, bool alreadyOnDisk, CancellationToken cancellationToken)
    {
        SuccessReports.Enqueue(piece);
        if (alreadyOnDisk)
        {
            AlreadyOnDiskReports.Enqueue(piece);
        }

        return Task.CompletedTask;
    }

    public Task ReportPieceErrorAsync(PieceTask piece, PieceErrorKind kind, string? realMd5, CancellationToken cancellationToken)
    {
        ErrorReports.Enqueue((piece, kind, realMd5));
        return Task.CompletedTask;
    }

    /// <summary>When set, a service-down report hangs as one to an unreachable supernode does, until its token is cancelled.</summary>
    public bool ServiceDownHangs { get; set; }

    /// <summary>The task id of the registration each service-down report was made for.</summary>
    public ConcurrentQueue<string?> ServiceDowns { get; } = new();

    public Task ServiceDownAsync(CancellationToken cancellationToken)
    {
        ServiceDownCalls++;
        ServiceDowns.Enqueue(Current?.TaskId);
        return ServiceDownHangs ? Task.Delay(Timeout.Infinite, cancellationToken) : Task.CompletedTask;
    }

    public Task ReportMetricsAsync(DownloadMetricsReport report, CancellationToken cancellationToken)
    {
        Metrics.Enqueue(report);
        return Task.CompletedTask;
    }
}

/// <summary>Hands out one prepared session and records what was asked.</summary>
public sealed class FakeSessionFactory(ScriptedSupernodeSession session) : ISupernodeSessionFactory
{
    public int Created { get; private set; }

    public IReadOnlyList<SupernodeAddress>? Nodes { get; private set; }

    public RegistrationInfo? Info { get; private set; }

    public ISupernodeSession Create(IReadOnlyList<SupernodeAddress> nodes, RegistrationInfo info, Random random)
    {
        Created++;
        Nodes = nodes;
        Info = info;
        session.Info = info;
        return session;
    }
}

/// <summary>
/// A fake uploader launcher: a running uploader on a fixed port (or none / throwing), or, with <see cref="Serving"/>, one
/// still starting whose outcome the test decides.
/// </summary>
public sealed class FakeUploaderLauncher : Dragonfly.Dfget.Uploader.IUploaderLauncher
{
    public int? Port { get; set; } = 15001;

    public bool Throw { get; set; }

    /// <summary>When set, the uploader on <see cref="Port"/> is starting: it serves when this completes with true.</summary>
    public TaskCompletionSource<bool>? Serving { get; set; }

    /// <summary>What <see cref="EnsureRunningAsync"/> (the waiting way, used when a starting uploader did not serve) returns.</summary>
    public int? WaitedPort { get; set; }

    public ConcurrentQueue<Dragonfly.Dfget.Uploader.UploaderLaunchRequest> WaitedLaunches { get; } = new();

    public ConcurrentQueue<Dragonfly.Dfget.Uploader.UploaderLaunchRequest> Launches { get; } = new();

    public ConcurrentQueue<(int Port, string TaskFileName, string TaskId)> Finished { get; } = new();

    /// <summary>The token the last <see cref="LaunchAsync"/> was given (a starting uploader's launch watches it).</summary>
    public CancellationToken LaunchToken { get; private set; }

    /// <summary>
    /// What a starting uploader's launch does when its token is cancelled, given <see cref="Serving"/>: the real one
    /// cancels it (no <c>/check/</c> sent yet) or completes it (a <c>/check/</c> already sent is finished).
    /// </summary>
    public Action<TaskCompletionSource<bool>>? OnLaunchCancelled { get; set; }

    public Task<Dragonfly.Dfget.Uploader.UploaderLaunch> LaunchAsync(Dragonfly.Dfget.Uploader.UploaderLaunchRequest request, CancellationToken cancellationToken)
    {
        Launches.Enqueue(request);
        LaunchToken = cancellationToken;
        if (Serving is { } serving && OnLaunchCancelled is { } onCancelled)
        {
            cancellationToken.Register(() => onCancelled(serving));
        }

        if (Throw)
        {
            throw new InvalidOperationException("launch failed");
        }

        return Task.FromResult(Port switch
        {
            null => Dragonfly.Dfget.Uploader.UploaderLaunch.None,
            { } port when Serving is not null => Dragonfly.Dfget.Uploader.UploaderLaunch.Starting(port, Serving.Task),
            { } port => Dragonfly.Dfget.Uploader.UploaderLaunch.Running(port),
        });
    }

    public Task<int?> EnsureRunningAsync(Dragonfly.Dfget.Uploader.UploaderLaunchRequest request, CancellationToken cancellationToken)
    {
        WaitedLaunches.Enqueue(request);
        return Task.FromResult(WaitedPort);
    }

    public Task NotifyFinishedAsync(int port, string bindIp, string taskFileName, string taskId, string cid, string superNode, CancellationToken cancellationToken)
    {
        Finished.Enqueue((port, taskFileName, taskId));
        return Task.CompletedTask;
    }

    public ConcurrentQueue<(int Port, string TaskFileName)> Abandoned { get; } = new();

    /// <summary>Whether <see cref="Serving"/> had completed when each abandon was sent.</summary>
    public ConcurrentQueue<bool> AbandonedAfterServing { get; } = new();

    public Task NotifyAbandonedAsync(int port, string bindIp, string taskFileName, CancellationToken cancellationToken)
    {
        AbandonedAfterServing.Enqueue(Serving is null || Serving.Task.IsCompleted);
        Abandoned.Enqueue((port, taskFileName));
        return Task.CompletedTask;
    }
}

/// <summary>Resolves a fixed local IP without any socket.</summary>
public sealed class FixedIpResolver : Dragonfly.Dfget.Engine.ILocalIpResolver
{
    public Task<string> ResolveAsync(IReadOnlyList<SupernodeAddress> nodes, CancellationToken cancellationToken) => Task.FromResult("127.0.0.1");
}

/// <summary>Seeded randoms for repeatable tests.</summary>
public sealed class SeededRandomFactory : Dragonfly.Dfget.Engine.IRandomFactory
{
    public Random Create() => new(42);
}
