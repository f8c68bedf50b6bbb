using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// The uploader's housekeeping: every scan interval (15 s) finished tasks not accessed for the expire time are deleted and
/// reported service-down; when no upload/check/rate request arrived for the alive time, and no registered download wrote
/// its file within it, the uploader is told to stop.
/// Only files of tasks registered with this uploader are touched (never "every file in the data dir", #1378), and files
/// left behind in its own data dir that no task tracks any more (<see cref="OrphanServiceFileSweeper"/>).
/// </summary>
public sealed partial class UploaderJanitor
{
    /// <summary>Service-down reports in flight at once.</summary>
    public const int ReportConcurrency = 8;

    /// <summary>The longest one service-down report may take (the original's supernode client timeout).</summary>
    public static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(5);

    private readonly UploaderOptions _options;
    private readonly UploadTaskRegistry _tasks;
    private readonly UploaderActivity _activity;
    private readonly IServiceDownReporter _reporter;
    private readonly OrphanServiceFileSweeper _orphans;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public UploaderJanitor(
        UploaderOptions options,
        UploadTaskRegistry tasks,
        UploaderActivity activity,
        IServiceDownReporter reporter,
        TimeProvider time,
        ILogger<UploaderJanitor> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(activity);
        ArgumentNullException.ThrowIfNull(reporter);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _tasks = tasks;
        _activity = activity;
        _reporter = reporter;
        _time = time;
        _logger = logger;
        _orphans = new OrphanServiceFileSweeper(options, tasks, time, logger);
    }

    /// <summary>
    /// Runs until cancelled or until the uploader has decided to stop (then returns normally): no request for the alive
    /// time, and no registered download wrote its file within it either (a long download keeps its uploader).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.ScanInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await ExpireAsync(cancellationToken).ConfigureAwait(false);
                if (_activity.TryBeginStopping(_options.AliveTime, SinceLastDownloadWrite()))
                {
                    Log.Idle(_logger, _activity.Idle);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Deletes finished tasks idle for the expire time and files left behind (<see cref="OrphanServiceFileSweeper"/>), then
    /// reports the tasks service-down; returns how many tasks were removed.
    /// </summary>
    public async Task<int> ExpireAsync(CancellationToken cancellationToken)
    {
        var expired = new List<UploadTask>();
        foreach (var task in _tasks.Snapshot())
        {
            if (_time.GetElapsedTime(task.LastAccess) < _options.ExpireTime)
            {
                continue;
            }

            if (!task.Finished)
            {
                // A download that failed or was abandoned: its client removed the file; forget the registration.
                if (!File.Exists(task.ServicePath) && _tasks.Remove(task))
                {
                    Log.Forgotten(_logger, task.TaskFileName);
                }

                continue;
            }

            if (!_tasks.Remove(task))
            {
                continue;
            }

            expired.Add(task);
            DeleteServiceFile(task);
            Log.Expired(_logger, task.TaskFileName, task.BytesServed);
        }

        // Before the withdrawn names are forgotten: the file of one its download could not delete goes now.
        _orphans.Sweep();

        // Names withdrawn by their clients answer 404 for as long as a finished task is kept; then they are unknown.
        _tasks.ForgetWithdrawnBefore(_options.ExpireTime);
        await ReportDownAsync(expired, cancellationToken).ConfigureAwait(false);
        return expired.Count;
    }

    /// <summary>
    /// The shutdown sweep: files left behind deleted, every task released and the files of finished and abandoned ones
    /// deleted first (cancellation never stops that), then service-down reported for them, in parallel. Files of downloads
    /// in progress are kept — their downloading client still owns them.
    /// </summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        // While the tasks are still registered, so no download's file counts as left behind.
        _orphans.Sweep();
        var released = new List<UploadTask>();
        foreach (var task in _tasks.Snapshot())
        {
            if (!_tasks.Remove(task))
            {
                continue;
            }

            if (task.Finished || IsAbandoned(task))
            {
                DeleteServiceFile(task);
            }

            Log.Released(_logger, task.TaskFileName, task.BytesServed);
            released.Add(task);
        }

        await ReportDownAsync(released, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The time since the most recent write of a registered, unfinished task's file (<see cref="TimeSpan.MaxValue"/> for
    /// none): a download in progress. Within the alive time it keeps the uploader alive.
    /// </summary>
    private TimeSpan SinceLastDownloadWrite()
    {
        var least = TimeSpan.MaxValue;
        foreach (var task in _tasks.Snapshot())
        {
            if (!task.Finished && SinceLastWrite(task) is { } since && since < least)
            {
                least = since;
            }
        }

        return least;
    }

    /// <summary>
    /// An unfinished task whose file was not written for the alive time (or is gone): the same rule that stops a download
    /// from keeping the uploader alive, so the shutdown that follows deletes exactly the files no download writes.
    /// </summary>
    private bool IsAbandoned(UploadTask task) => !task.Finished && SinceLastWrite(task) is { } since && since >= _options.AliveTime;

    /// <summary>
    /// How long ago the task's file was written, measured both ways (a file stamped in the future counts as just written,
    /// within the same bound); <see cref="TimeSpan.MaxValue"/> when it is gone, null when it cannot be read.
    /// </summary>
    private TimeSpan? SinceLastWrite(UploadTask task)
    {
        try
        {
            var info = new FileInfo(task.ServicePath);
            return info.Exists ? (_time.GetUtcNow() - info.LastWriteTimeUtc).Duration() : TimeSpan.MaxValue;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void DeleteServiceFile(UploadTask task)
    {
        try
        {
            File.Delete(task.ServicePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.DeleteFailed(_logger, task.ServicePath, e);
        }
    }

    /// <summary>
    /// Service-down for every released task that finished with a supernode, at most <see cref="ReportConcurrency"/> at
    /// once, each given <see cref="ReportTimeout"/>: one unreachable supernode delays the rest by one timeout, not each.
    /// A failed report is logged; only <paramref name="cancellationToken"/> ends the lot early.
    /// </summary>
    private async Task ReportDownAsync(IReadOnlyList<UploadTask> tasks, CancellationToken cancellationToken)
    {
        var reportable = tasks.Where(t => t.TaskId is not null && t.Cid is not null && t.SuperNode is not null).ToArray();
        if (reportable.Length == 0)
        {
            return;
        }

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = ReportConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(reportable, parallel, ReportDownAsync).ConfigureAwait(false);
    }

    private async ValueTask ReportDownAsync(UploadTask task, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(ReportTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        bool ok;
        try
        {
            ok = await _reporter.ReportAsync(task.SuperNode!, task.TaskId!, task.Cid!, linked.Token).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            ok = false;
        }

        if (!ok)
        {
            Log.ReportFailed(_logger, task.TaskId!, task.SuperNode!);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 20, Level = LogLevel.Information, Message = "Task {TaskFileName} expired and was deleted; it served {BytesServed} bytes to peers")]
        public static partial void Expired(ILogger logger, string taskFileName, long bytesServed);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 21, Level = LogLevel.Information, Message = "Task {TaskFileName} released at shutdown; it served {BytesServed} bytes to peers")]
        public static partial void Released(ILogger logger, string taskFileName, long bytesServed);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 22, Level = LogLevel.Warning, Message = "Cannot delete {Path}")]
        public static partial void DeleteFailed(ILogger logger, string path, Exception exception);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 23, Level = LogLevel.Warning, Message = "Service-down report for task {TaskId} to {SuperNode} failed")]
        public static partial void ReportFailed(ILogger logger, string taskId, string superNode);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 25, Level = LogLevel.Debug, Message = "Forgot unfinished task {TaskFileName}: its file is gone")]
        public static partial void Forgotten(ILogger logger, string taskFileName);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 24, Level = LogLevel.Information, Message = "No request for {Idle}; the uploader stops")]
        public static partial void Idle(ILogger logger, TimeSpan idle);
    }
}
