using System.Collections.Concurrent;
using Dragonfly.Common.Errors;
using Dragonfly.Common.Identity;
using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Origin;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Managers.Tasks;

/// <summary>The supernode's tasks (PROTOCOL §2.2, §2.3). See <see cref="ITaskMgr"/>.</summary>
public sealed partial class TaskMgr : ITaskMgr
{
    private readonly ConcurrentDictionary<TaskId, TaskState> _tasks = new();
    private readonly ConcurrentDictionary<TaskId, DateTimeOffset> _unreachable = new();

    /// <summary>Guards <see cref="_removing"/> together with adding and removing tasks, so a removal and a creation never interleave.</summary>
    private readonly object _removalGate = new();

    /// <summary>Tasks being removed (<see cref="RemoveAsync"/>): completes when the clean-up is done.</summary>
    private readonly Dictionary<TaskId, Task> _removing = new();
    private readonly IOriginClient _origin;
    private readonly TrackerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly TrackerMetrics _metrics;
    private readonly ILogger<TaskMgr> _logger;

    public TaskMgr(IOriginClient origin, TrackerOptions options, TimeProvider timeProvider, TrackerMetrics metrics, ILogger<TaskMgr> logger)
    {
        ArgumentNullException.ThrowIfNull(origin);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        _origin = origin;
        _options = options;
        _timeProvider = timeProvider;
        _metrics = metrics;
        _logger = logger;
    }

    /// <inheritdoc />
    public async Task<TaskRegistrationResult> GetOrCreateAsync(TaskSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!TaskIdentity.IsHttpUrl(spec.RawUrl) || !Uri.TryCreate(spec.RawUrl, UriKind.Absolute, out var uri))
        {
            throw DragonflyException.Invalid($"raw url: {spec.RawUrl}");
        }

        if (string.IsNullOrEmpty(spec.TaskUrl))
        {
            throw DragonflyException.Invalid("task url: empty");
        }

        // Header names are case-insensitive: a "range" header reaches the source just like "Range", so it is part of the id.
        var range = TaskHeaders.ValueOf(spec.Headers, "Range");
        var taskId = TaskIdentity.ComputeTaskId(spec.TaskUrl, spec.Md5, spec.Identifier, range);
        var now = _timeProvider.GetUtcNow();

        if (_tasks.TryGetValue(taskId, out var existing))
        {
            return Reuse(existing, spec, now);
        }

        if (_unreachable.TryGetValue(taskId, out var failedAt))
        {
            if (now - failedAt < _options.FailAccessInterval)
            {
                throw new DragonflyException(ErrorCode.UrlNotReachable, $"url {spec.RawUrl} was not reachable at {failedAt:O}");
            }

            _unreachable.TryRemove(new KeyValuePair<TaskId, DateTimeOffset>(taskId, failedAt));
        }

        // The probe is network IO: no lock is held here; two racing registrations may both probe, the first to add wins.
        var probe = await _origin.ProbeAsync(new OriginRequest(uri, spec.Headers, spec.Insecure, spec.RootCAs), cancellationToken).ConfigureAwait(false);
        var length = -1L;
        switch (probe.Status)
        {
            case OriginProbeStatus.AuthenticationRequired:
                Log.SourceAuthRequired(_logger, spec.RawUrl, probe.HttpStatus);
                throw new DragonflyException(ErrorCode.AuthenticationRequired, $"url {spec.RawUrl} returned {probe.HttpStatus}");
            case OriginProbeStatus.AddressNotAllowed:
                // An operator's rule, not the source's answer: nothing is remembered (the policy answers the next one at
                // once, before any byte is sent) and no task is created. dfget treats it like any refused registration.
                // The connector logged the refused addresses, the registration service logs the failure.
                throw new DragonflyException(ErrorCode.UrlNotReachable, $"url {spec.RawUrl}: {probe.Error ?? "source address not allowed"}");
            case OriginProbeStatus.NotFound:
                _unreachable[taskId] = _timeProvider.GetUtcNow();
                Log.SourceNotFound(_logger, spec.RawUrl, probe.HttpStatus);
                throw new DragonflyException(ErrorCode.UrlNotReachable, $"url {spec.RawUrl} returned {probe.HttpStatus}");
            case OriginProbeStatus.Ok when probe.HttpStatus is 200 or 206 or 0:
                length = probe.ContentLength < 0 ? -1 : probe.ContentLength;
                break;
            default:
                Log.SourceLengthUnknown(_logger, spec.RawUrl, probe.HttpStatus, probe.Error);
                break;
        }

        var pieceSize = PieceLayout.PieceSizeFor(length);
        var state = new TaskState(taskId, spec, length, pieceSize, PieceLayout.RegisterTimePieceTotal(length, pieceSize), now);
        bool added;
        while (true)
        {
            Task? removal;
            lock (_removalGate)
            {
                added = !_removing.TryGetValue(taskId, out removal) && _tasks.TryAdd(taskId, state);
            }

            if (removal is null)
            {
                break;
            }

            // The task is being removed (its CDN files too): create it again only once that is done.
            await removal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!added)
        {
            return Reuse(_tasks[taskId], spec, now);
        }

        _metrics.TaskRegistered();
        Log.TaskCreated(_logger, taskId, spec.TaskUrl, length, pieceSize);
        var trigger = state.TryStartCdn();
        return new TaskRegistrationResult(state.Snapshot(), Created: true, ShouldTriggerCdn: trigger);
    }

    /// <inheritdoc />
    public bool TryGet(TaskId taskId, out TaskSnapshot task)
    {
        if (_tasks.TryGetValue(taskId, out var state))
        {
            task = state.Snapshot();
            return true;
        }

        task = null!;
        return false;
    }

    /// <inheritdoc />
    public TaskSnapshot Get(TaskId taskId) =>
        TryGet(taskId, out var task) ? task : throw DragonflyException.NotFound($"failed to get key {taskId.Value} from map");

    /// <inheritdoc />
    public IReadOnlyList<TaskSnapshot> List() => _tasks.Values.Select(static s => s.Snapshot()).ToList();

    /// <inheritdoc />
    public bool Touch(TaskId taskId)
    {
        if (!_tasks.TryGetValue(taskId, out var state))
        {
            return false;
        }

        state.Touch(_timeProvider.GetUtcNow());
        return true;
    }

    /// <inheritdoc />
    public bool CompleteCdn(TaskId taskId, CdnResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!_tasks.TryGetValue(taskId, out var state))
        {
            return false;
        }

        state.Complete(result.Success, result.FileLength, result.SourceLength, result.RealMd5);
        Log.CdnCompleted(_logger, taskId, result.Success, result.FileLength, result.Error);
        return true;
    }

    /// <inheritdoc />
    public bool TryStartCdn(TaskId taskId) => _tasks.TryGetValue(taskId, out var state) && state.TryStartCdn();

    /// <inheritdoc />
    public IReadOnlyList<TaskId> ListIdleSince(DateTimeOffset threshold)
    {
        var limit = threshold.ToUnixTimeMilliseconds();
        var result = new List<TaskId>();
        foreach (var (id, state) in _tasks)
        {
            if (state.LastAccessMs <= limit)
            {
                result.Add(id);
            }
        }

        // Forget expired unreachable-URL memos on the same pass.
        var now = _timeProvider.GetUtcNow();
        foreach (var (id, at) in _unreachable)
        {
            if (now - at >= _options.FailAccessInterval)
            {
                _unreachable.TryRemove(new KeyValuePair<TaskId, DateTimeOffset>(id, at));
            }
        }

        return result;
    }

    /// <inheritdoc />
    public bool Remove(TaskId taskId) => _tasks.TryRemove(taskId, out _);

    /// <inheritdoc />
    public async Task<bool> RemoveAsync(TaskId taskId, Func<Task> cleanUp)
    {
        ArgumentNullException.ThrowIfNull(cleanUp);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task? earlier;
        bool removed;
        lock (_removalGate)
        {
            _removing.TryGetValue(taskId, out earlier);
            _removing[taskId] = done.Task;
            removed = _tasks.TryRemove(taskId, out _);
        }

        try
        {
            if (earlier is not null)
            {
                // Another removal of the same task (the GC and an operator's DELETE) runs first; clean-ups never overlap.
                await earlier.ConfigureAwait(false);
            }

            await cleanUp().ConfigureAwait(false);
            return removed;
        }
        finally
        {
            lock (_removalGate)
            {
                if (_removing.TryGetValue(taskId, out var current) && current == done.Task)
                {
                    _removing.Remove(taskId);
                }
            }

            done.SetResult();
        }
    }

    private TaskRegistrationResult Reuse(TaskState existing, TaskSpec spec, DateTimeOffset now)
    {
        CheckConflict(existing, spec);
        existing.Touch(now);
        var trigger = existing.TryStartCdn();
        return new TaskRegistrationResult(existing.Snapshot(), Created: false, ShouldTriggerCdn: trigger);
    }

    private static void CheckConflict(TaskState existing, TaskSpec spec)
    {
        var stored = existing.Spec;
        if (!string.Equals(stored.TaskUrl, spec.TaskUrl, StringComparison.Ordinal))
        {
            throw new DragonflyException(ErrorCode.TaskIdConflict, $"taskId {existing.Id.Value}: url {spec.TaskUrl} differs from {stored.TaskUrl}");
        }

        if (!string.IsNullOrEmpty(stored.Md5) && !string.Equals(stored.Md5, spec.Md5, StringComparison.OrdinalIgnoreCase))
        {
            throw new DragonflyException(ErrorCode.TaskIdConflict, $"taskId {existing.Id.Value}: md5 {spec.Md5} differs from {stored.Md5}");
        }

        if (string.IsNullOrEmpty(stored.Md5) && !string.Equals(stored.Identifier ?? string.Empty, spec.Identifier ?? string.Empty, StringComparison.Ordinal))
        {
            throw new DragonflyException(ErrorCode.TaskIdConflict, $"taskId {existing.Id.Value}: identifier {spec.Identifier} differs from {stored.Identifier}");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeTasks + 1, Level = LogLevel.Information, Message = "Created task {TaskId} for {TaskUrl}: length {Length}, piece size {PieceSize}")]
        public static partial void TaskCreated(ILogger logger, TaskId taskId, string taskUrl, long length, int pieceSize);

        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeTasks + 2, Level = LogLevel.Warning, Message = "Source {Url} requires authentication ({Status})")]
        public static partial void SourceAuthRequired(ILogger logger, string url, int status);

        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeTasks + 3, Level = LogLevel.Warning, Message = "Source {Url} not found ({Status}); remembered as unreachable")]
        public static partial void SourceNotFound(ILogger logger, string url, int status);

        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeTasks + 4, Level = LogLevel.Information, Message = "Source {Url} length unknown (status {Status}, {Error})")]
        public static partial void SourceLengthUnknown(ILogger logger, string url, int status, string? error);

        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeTasks + 5, Level = LogLevel.Information, Message = "CDN of task {TaskId} finished: success {Success}, file length {FileLength} {Error}")]
        public static partial void CdnCompleted(ILogger logger, TaskId taskId, bool success, long fileLength, string? error);
    }
}
