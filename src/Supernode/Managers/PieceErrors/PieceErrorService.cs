using System.Collections.Concurrent;
using System.Threading.Channels;
using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.Gc;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Managers.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Managers.PieceErrors;

/// <summary>The kinds of piece error a client reports.</summary>
public enum PieceErrorKind
{
    FileNotExist,
    FileMd5NotMatch,
}

/// <summary>A validated piece-error report of a supernode piece.</summary>
public sealed record PieceErrorWork(TaskId TaskId, int PieceNum, PieceErrorKind ErrorType, string? ExpectedMd5);

/// <summary>
/// Piece-error handling (PROTOCOL §2.9): a bounded channel (100) drained by 4 workers; at most one report per task is in
/// flight, and after one is handled the task cools down for 3 s (further reports dropped). A piece whose CDN copy is missing
/// or no longer matches its recorded md5 makes the whole task collected, files included, so the next registration re-fetches it;
/// a piece at or beyond the task's piece count is ignored, and one the CDN has not written yet changes nothing.
/// Tasks whose cool-down has passed are forgotten whenever a report is handled, so the map holds only tasks with a report
/// in flight or cooling down, however long the supernode runs.
/// </summary>
public sealed partial class PieceErrorService : BackgroundService, IPieceErrorQueue
{
    private readonly Channel<PieceErrorWork> _queue;
    private readonly ConcurrentDictionary<TaskId, long> _busyUntil = new();
    private readonly ITaskMgr _tasks;
    private readonly ICDNMgr _cdn;
    private readonly IGcMgr _gc;
    private readonly TrackerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PieceErrorService> _logger;

    public PieceErrorService(ITaskMgr tasks, ICDNMgr cdn, IGcMgr gc, TrackerOptions options, TimeProvider timeProvider, ILogger<PieceErrorService> logger)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(cdn);
        ArgumentNullException.ThrowIfNull(gc);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _tasks = tasks;
        _cdn = cdn;
        _gc = gc;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _queue = Channel.CreateBounded<PieceErrorWork>(new BoundedChannelOptions(options.PieceErrorQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
            SingleReader = options.PieceErrorWorkers == 1,
        });
    }

    /// <summary>Raised after a report was handled: (task, what the check of the CDN copy found).</summary>
    public event Action<TaskId, CdnPieceCheck>? Handled;

    /// <inheritdoc />
    public bool TryEnqueue(PieceErrorReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!Cid.TryParse(report.DstCid, out var dst) || !dst.IsSupernode)
        {
            return false;
        }

        if (!TaskId.TryParse(report.TaskId, out var taskId) || !_tasks.TryGet(taskId, out var task))
        {
            return false;
        }

        PieceErrorKind type;
        switch (report.ErrorType)
        {
            case "FILE_NOT_EXIST":
                type = PieceErrorKind.FileNotExist;
                break;
            case "FILE_MD5_NOT_MATCH":
                type = PieceErrorKind.FileMd5NotMatch;
                break;
            default:
                return false;
        }

        if (!TaskPieceRange.TryParse(report.Range, task, out var pieceNum))
        {
            return false;
        }

        var now = _timeProvider.GetTimestamp();
        if (_busyUntil.TryGetValue(taskId, out var until) && (until == long.MaxValue || now < until))
        {
            return false;
        }

        // Claim the task: exactly one report per task is queued or running.
        var claimed = until == 0 ? _busyUntil.TryAdd(taskId, long.MaxValue) : _busyUntil.TryUpdate(taskId, long.MaxValue, until);
        if (!claimed)
        {
            return false;
        }

        if (!_queue.Writer.TryWrite(new PieceErrorWork(taskId, pieceNum, type, report.ExpectedMd5)))
        {
            _busyUntil.TryRemove(taskId, out _);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Checks one report (also callable directly in tests). Only <see cref="CdnPieceCheck.Bad"/> (a recorded piece whose copy
    /// is gone or no longer matches) collects the task; a piece the CDN has not written is no reason to.
    /// </summary>
    public async Task<CdnPieceCheck> HandleAsync(PieceErrorWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        try
        {
            // FILE_NOT_EXIST and FILE_MD5_NOT_MATCH both come down to: is the cached piece still there and matching its record?
            var check = await _cdn.VerifyPieceAsync(work.TaskId, work.PieceNum, cancellationToken).ConfigureAwait(false);
            if (check == CdnPieceCheck.Bad)
            {
                Log.BadCdnPiece(_logger, work.TaskId, work.PieceNum, work.ErrorType);
                await _gc.DeleteTaskAsync(work.TaskId, full: true, cancellationToken).ConfigureAwait(false);
            }

            Handled?.Invoke(work.TaskId, check);
            return check;
        }
        finally
        {
            var now = _timeProvider.GetTimestamp();
            ForgetCooledDown(now);
            _busyUntil[work.TaskId] = now + (long)(_options.PieceErrorCoolDown.TotalSeconds * _timeProvider.TimestampFrequency);
        }
    }

    /// <summary>Tasks tracked for the one-at-a-time rule and the cool-down (in flight or cooling down).</summary>
    internal int TrackedTasks => _busyUntil.Count;

    private void ForgetCooledDown(long now)
    {
        foreach (var entry in _busyUntil)
        {
            // A compare-and-remove: an entry claimed again meanwhile (its value changed) stays.
            if (entry.Value != long.MaxValue && entry.Value <= now)
            {
                _busyUntil.TryRemove(entry);
            }
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = new Task[_options.PieceErrorWorkers];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = WorkAsync(stoppingToken);
        }

        return Task.WhenAll(workers);
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var work in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await HandleAsync(work, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.HandleFailed(_logger, work.TaskId, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeCdn + 92, Level = LogLevel.Warning, Message = "CDN piece {PieceNum} of task {TaskId} is bad ({ErrorType}); collecting the task with its files")]
        public static partial void BadCdnPiece(ILogger logger, TaskId taskId, int pieceNum, PieceErrorKind errorType);

        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeCdn + 91, Level = LogLevel.Error, Message = "Piece error check of task {TaskId} failed")]
        public static partial void HandleFailed(ILogger logger, TaskId taskId, Exception exception);
    }
}
