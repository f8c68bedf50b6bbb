using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.DfgetTasks;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Tasks;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Managers.Gc;

/// <summary>Task and peer garbage collection (PROTOCOL §2.8). See <see cref="IGcMgr"/>; run periodically by <see cref="GcService"/>.</summary>
public sealed partial class GcMgr : IGcMgr
{
    private readonly ITaskMgr _tasks;
    private readonly IPeerMgr _peers;
    private readonly IDfgetTaskMgr _dfgetTasks;
    private readonly IProgressMgr _progress;
    private readonly ICDNMgr _cdn;
    private readonly TrackerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly TrackerMetrics _metrics;
    private readonly ILogger<GcMgr> _logger;

    public GcMgr(
        ITaskMgr tasks,
        IPeerMgr peers,
        IDfgetTaskMgr dfgetTasks,
        IProgressMgr progress,
        ICDNMgr cdn,
        TrackerOptions options,
        TimeProvider timeProvider,
        TrackerMetrics metrics,
        ILogger<GcMgr> logger)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(dfgetTasks);
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(cdn);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        _tasks = tasks;
        _peers = peers;
        _dfgetTasks = dfgetTasks;
        _progress = progress;
        _cdn = cdn;
        _options = options;
        _timeProvider = timeProvider;
        _metrics = metrics;
        _logger = logger;
    }

    /// <inheritdoc />
    public async Task DeleteTaskAsync(TaskId taskId, bool full, CancellationToken cancellationToken)
    {
        foreach (var dfgetTask in _dfgetTasks.ListByTask(taskId))
        {
            _progress.MarkServiceDown(dfgetTask.PeerId);
            _dfgetTasks.Delete(dfgetTask.Key);
        }

        _progress.DeleteTask(taskId);
        var removed = await _tasks.RemoveAsync(taskId, () => _cdn.DeleteAsync(taskId, full, cancellationToken)).ConfigureAwait(false);
        if (removed)
        {
            Log.TaskCollected(_logger, taskId, full);
        }
    }

    /// <inheritdoc />
    public bool DeletePeer(PeerId peerId)
    {
        if (_peers.Supernode is { } self && self.Id == peerId)
        {
            return false;
        }

        var removed = _peers.Delete(peerId);
        removed |= _progress.DeletePeer(peerId);
        return removed;
    }

    /// <inheritdoc />
    public async Task<(int Tasks, int Peers)> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        var taskThreshold = now - _options.TaskExpireTime;
        var tasks = 0;
        foreach (var taskId in _tasks.ListIdleSince(taskThreshold))
        {
            // Re-check: a registration or pull may have touched the task since the listing.
            if (_tasks.TryGet(taskId, out var task) && task.LastAccess <= taskThreshold)
            {
                await DeleteTaskAsync(taskId, full: false, cancellationToken).ConfigureAwait(false);
                tasks++;
            }
        }

        // Dfget-tasks and swarms whose task is gone (a registration that raced with the collection of its task).
        foreach (var orphan in _dfgetTasks.List())
        {
            if (!_tasks.TryGet(orphan.TaskId, out _))
            {
                _dfgetTasks.Delete(orphan.Key);
                _progress.DeleteTask(orphan.TaskId);
            }
        }

        // Pieces handed out longer ago than the task expiry were abandoned (a dfget's piece timeout is far shorter).
        _progress.ReleaseStaleRunning(_options.TaskExpireTime);

        var peerThreshold = now - _options.PeerGcDelay;
        var peers = 0;
        foreach (var peerId in _progress.ListServiceDownBefore(peerThreshold))
        {
            if (DeletePeer(peerId))
            {
                peers++;
            }
        }

        // Peers that never joined a swarm (or whose state is gone) are deregistered once they are older than the delay.
        foreach (var peer in _peers.List(new PeerListQuery()))
        {
            if (!peer.IsSupernode && peer.Created <= peerThreshold && !_progress.HasPeer(peer.Id) && _peers.Delete(peer.Id))
            {
                peers++;
            }
        }

        _metrics.TasksCollected(tasks);
        _metrics.PeersCollected(peers);
        Log.GcPass(_logger, tasks, peers);
        return (tasks, peers);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeGc + 1, Level = LogLevel.Information, Message = "Collected task {TaskId} (files deleted: {Full})")]
        public static partial void TaskCollected(ILogger logger, TaskId taskId, bool full);

        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeGc + 2, Level = LogLevel.Debug, Message = "GC pass collected {Tasks} tasks and {Peers} peers")]
        public static partial void GcPass(ILogger logger, int tasks, int peers);
    }
}
