using System.Globalization;
using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.DfgetTasks;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Scheduler;
using Dragonfly.Supernode.Managers.Tasks;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Managers.Registration;

/// <summary>The per-client piece protocol of PROTOCOL §1.4. See <see cref="IPiecePullService"/>.</summary>
public sealed partial class PiecePullService : IPiecePullService
{
    private readonly ITaskMgr _tasks;
    private readonly IDfgetTaskMgr _dfgetTasks;
    private readonly IProgressMgr _progress;
    private readonly ICDNMgr _cdn;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PiecePullService> _logger;

    public PiecePullService(ITaskMgr tasks, IDfgetTaskMgr dfgetTasks, IProgressMgr progress, ICDNMgr cdn, TimeProvider timeProvider, ILogger<PiecePullService> logger)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(dfgetTasks);
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(cdn);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _tasks = tasks;
        _dfgetTasks = dfgetTasks;
        _progress = progress;
        _cdn = cdn;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The pull status of a request (wire 700/701/702 or STARTED/RUNNING/FINISHED).</summary>
    internal enum PullStatus
    {
        Started = 700,
        Running = 701,
        Finished = 702,
    }

    /// <inheritdoc />
    public ValueTask<PullOutcome> PullAsync(PullRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        if (request.MaxWait <= TimeSpan.Zero || !TaskId.TryParse(request.TaskId, out var taskId)
            || (TryParseStatus(request.Status, out var status) && status == PullStatus.Finished))
        {
            return ValueTask.FromResult(Pull(request));
        }

        return PullHeldAsync(request, taskId, cancellationToken);
    }

    /// <summary>
    /// A pull whose "wait" is held until the swarm changes or <see cref="PullRequest.MaxWait"/> passes. The request's piece
    /// report is applied once; every later look only schedules. The change signal is taken before each look, so a change
    /// between the look and the wait is not missed.
    /// </summary>
    private async ValueTask<PullOutcome> PullHeldAsync(PullRequest request, TaskId taskId, CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        var change = _progress.NextChange(taskId);
        var outcome = Pull(request);
        var look = request with { Result = null, Range = null, DstCid = null };
        while (outcome is PullOutcome.Wait)
        {
            var remaining = request.MaxWait - _timeProvider.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            using (var delayCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                await Task.WhenAny(change, Task.Delay(remaining, _timeProvider, delayCts.Token)).ConfigureAwait(false);
                await delayCts.CancelAsync().ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            change = _progress.NextChange(taskId);
            outcome = Pull(look);
        }

        return outcome is PullOutcome.Wait wait ? wait with { Held = _timeProvider.GetElapsedTime(started) } : outcome;
    }

    private PullOutcome Pull(PullRequest request)
    {
        if (!TaskId.TryParse(request.TaskId, out var taskId))
        {
            return Param($"taskId: {request.TaskId}");
        }

        if (!Cid.TryParse(request.SrcCid, out var cid))
        {
            return Param($"srcCid: {request.SrcCid}");
        }

        if (!TryParseStatus(request.Status, out var status))
        {
            return Param($"status: {request.Status}");
        }

        PieceResult result;
        if (string.IsNullOrEmpty(request.Result))
        {
            result = PieceResult.Invalid;
        }
        else if (!TryParseResult(request.Result, out result))
        {
            return Param($"result: {request.Result}");
        }

        var key = new DfgetTaskKey(cid, taskId);
        if (!_tasks.TryGet(taskId, out var task) || !_dfgetTasks.TryGet(key, out _))
        {
            return new PullOutcome.Failed(PullFailure.TargetNotFound, $"{key} not found");
        }

        _tasks.Touch(taskId);
        switch (status)
        {
            case PullStatus.Started:
                _dfgetTasks.UpdateStatus(key, DfgetTaskStatus.Running);
                break;
            case PullStatus.Running:
                if (result != PieceResult.Invalid)
                {
                    if (!TaskPieceRange.TryParse(request.Range, task, out var pieceNum))
                    {
                        return Param($"range: {request.Range}");
                    }

                    // An unknown or stale dstCid (e.g. after a supernode migration, #752) does not fail the pull.
                    Cid.TryParse(request.DstCid, out var dst);
                    var outcome = _progress.UpdatePiece(taskId, cid, pieceNum, result, dst, PieceBytes(taskId, pieceNum, task.PieceSize));
                    if (outcome == PieceUpdateOutcome.InvalidPiece)
                    {
                        return Param($"range: {request.Range}");
                    }
                }

                _dfgetTasks.UpdateStatus(key, DfgetTaskStatus.Running);
                break;
            case PullStatus.Finished:
                var success = result == PieceResult.Success;
                _dfgetTasks.UpdateStatus(key, success ? DfgetTaskStatus.Success : DfgetTaskStatus.Failed);
                return success && task.CdnStatus == CdnStatus.Success
                    ? new PullOutcome.Finished(task.RealMd5 ?? string.Empty, task.FileLength)
                    : new PullOutcome.Wait("peer task finished");
        }

        return Schedule(task, key);
    }

    private PullOutcome Schedule(TaskSnapshot task, DfgetTaskKey key)
    {
        switch (task.CdnStatus)
        {
            case CdnStatus.Failed or CdnStatus.SourceError:
                return new PullOutcome.Failed(PullFailure.CdnFailed, $"task {task.Id.Value}: cdn status is fail");
            case CdnStatus.Success when _progress.IsClientFinished(task.Id, key.Cid):
                _dfgetTasks.UpdateStatus(key, DfgetTaskStatus.Success);
                return new PullOutcome.Finished(task.RealMd5 ?? string.Empty, task.FileLength);
        }

        var scheduled = _progress.Schedule(task.Id, key.Cid);
        switch (scheduled.Status)
        {
            case ScheduleStatus.Saturated:
                return new PullOutcome.Continue([]);
            case ScheduleStatus.NothingAvailable:
                return new PullOutcome.Wait(task.CdnStatus == CdnStatus.Success ? "peer task wait" : "cdn status is wait");
            case ScheduleStatus.UnknownClient:
                return new PullOutcome.Failed(PullFailure.TargetNotFound, $"{key} has no progress");
        }

        var items = new PieceTaskItem[scheduled.Pieces.Count];
        string? supernodePath = null;
        for (var i = 0; i < items.Length; i++)
        {
            var piece = scheduled.Pieces[i];
            var path = piece.Path ?? (supernodePath ??= _cdn.DownloadPath(task.Id, task.RawUrl));
            var md5 = _cdn.TryGetPieceMd5(task.Id, piece.PieceNum, out var pieceMd5) ? pieceMd5.ToString() : string.Empty;
            items[i] = new PieceTaskItem(PieceRange.ForPiece(piece.PieceNum, task.PieceSize), piece.PieceNum, task.PieceSize, md5,
                piece.Uploader, piece.PeerIp, piece.PeerPort, path);
        }

        Log.Scheduled(_logger, key, items.Length);
        return new PullOutcome.Continue(items);
    }

    /// <inheritdoc />
    public PieceReportOutcome ReportPieceSuccess(string? taskId, string? cid, string? dstCid, string? pieceRange) =>
        ReportPiece(taskId, cid, dstCid, pieceRange, PieceResult.Success);

    /// <inheritdoc />
    public PieceReportOutcome ReportPiece(string? taskId, string? cid, string? dstCid, string? pieceRange, PieceResult result)
    {
        if (!TaskId.TryParse(taskId, out var id) || !Cid.TryParse(cid, out var client) || !Cid.TryParse(dstCid, out var dst))
        {
            return PieceReportOutcome.InvalidInput;
        }

        if (!_tasks.TryGet(id, out var task) || !_dfgetTasks.TryGet(new DfgetTaskKey(client, id), out _))
        {
            return PieceReportOutcome.NotFound;
        }

        if (!dst.IsSupernode && !_dfgetTasks.TryGet(new DfgetTaskKey(dst, id), out _))
        {
            return PieceReportOutcome.NotFound;
        }

        if (!TaskPieceRange.TryParse(pieceRange, task, out var pieceNum))
        {
            return PieceReportOutcome.InvalidInput;
        }

        return _progress.UpdatePiece(id, client, pieceNum, result, dst, PieceBytes(id, pieceNum, task.PieceSize)) switch
        {
            PieceUpdateOutcome.Recorded => PieceReportOutcome.Recorded,
            PieceUpdateOutcome.InvalidPiece => PieceReportOutcome.InvalidInput,
            _ => PieceReportOutcome.NotFound,
        };
    }

    /// <inheritdoc />
    public ServiceDownOutcome ServiceDown(string? taskId, string? cid)
    {
        if (!TaskId.TryParse(taskId, out var id) || !Cid.TryParse(cid, out var client)
            || !_dfgetTasks.TryGet(new DfgetTaskKey(client, id), out var dfgetTask))
        {
            Log.ServiceDownUnknown(_logger, taskId, cid);
            return ServiceDownOutcome.Unknown;
        }

        return _progress.MarkServiceDown(dfgetTask.PeerId);
    }

    private long PieceBytes(TaskId taskId, int pieceNum, int pieceSize) =>
        _cdn.TryGetPieceMd5(taskId, pieceNum, out var md5) && md5.WrappedLength > 0 ? md5.WrappedLength : pieceSize;

    internal static bool TryParseStatus(string? text, out PullStatus status)
    {
        status = text?.ToUpperInvariant() switch
        {
            "700" or "STARTED" => PullStatus.Started,
            "701" or "RUNNING" => PullStatus.Running,
            "702" or "FINISHED" => PullStatus.Finished,
            _ => 0,
        };
        return status != 0;
    }

    internal static bool TryParseResult(string? text, out PieceResult result)
    {
        result = text?.ToUpperInvariant() switch
        {
            "500" or "FAILED" => PieceResult.Failed,
            "501" or "SUCCESS" => PieceResult.Success,
            "502" or "INVALID" => PieceResult.Invalid,
            "503" or "SEMISUC" => PieceResult.SemiSuccess,
            _ => 0,
        };
        return result != 0;
    }

    private static PullOutcome.Failed Param(string detail) =>
        new(PullFailure.ParamError, string.Create(CultureInfo.InvariantCulture, $"{detail}: param is illegal"));

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeScheduler + 1, Level = LogLevel.Debug, Message = "Scheduled {Count} pieces for {DfgetTask}")]
        public static partial void Scheduled(ILogger logger, DfgetTaskKey dfgetTask, int count);

        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeScheduler + 2, Level = LogLevel.Information, Message = "Service-down for unknown {TaskId}/{Cid} accepted (already collected)")]
        public static partial void ServiceDownUnknown(ILogger logger, string? taskId, string? cid);
    }
}
