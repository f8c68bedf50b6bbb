using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// The uploader's housekeeping: every scan interval (15 s) finished tasks not accessed for the expire time are deleted and
/// reported service-down; when no upload/check/rate request arrived for the alive time the uploader is told to stop.
/// Only files of tasks registered with this uploader are touched (never "every file in the data dir", #1378).
/// </summary>
public sealed partial class UploaderJanitor
{
    private readonly UploaderOptions _options;
    private readonly UploadTaskRegistry _tasks;
    private readonly UploaderActivity _activity;
    private readonly IServiceDownReporter _reporter;
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
    }

    /// <summary>Runs until cancelled or until the uploader has been idle for the alive time (then returns normally).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.ScanInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await ExpireAsync(cancellationToken).ConfigureAwait(false);
                if (_activity.Idle >= _options.AliveTime)
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

    /// <summary>Deletes finished tasks idle for the expire time; returns how many were removed.</summary>
    public async Task<int> ExpireAsync(CancellationToken cancellationToken)
    {
        var removed = 0;
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

            removed++;
            DeleteServiceFile(task);
            Log.Expired(_logger, task.TaskFileName, task.BytesServed);
            await ReportDownAsync(task, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>
    /// The shutdown sweep: service-down for every finished task, and its file deleted. Files of unfinished tasks are kept
    /// unless untouched for the alive time — their downloading client still owns them.
    /// </summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
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
            await ReportDownAsync(task, cancellationToken).ConfigureAwait(false);
        }
    }

    private bool IsAbandoned(UploadTask task)
    {
        try
        {
            var info = new FileInfo(task.ServicePath);
            return !info.Exists || _time.GetUtcNow() - info.LastWriteTimeUtc >= _options.AliveTime;
        }
        catch (IOException)
        {
            return false;
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

    private async Task ReportDownAsync(UploadTask task, CancellationToken cancellationToken)
    {
        if (task.TaskId is null || task.Cid is null || task.SuperNode is null)
        {
            return;
        }

        var ok = await _reporter.ReportAsync(task.SuperNode, task.TaskId, task.Cid, cancellationToken).ConfigureAwait(false);
        if (!ok)
        {
            Log.ReportFailed(_logger, task.TaskId, task.SuperNode);
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
