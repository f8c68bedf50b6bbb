using System.Collections.Concurrent;
using Dragonfly.Common.Errors;
using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.DfgetTasks;

/// <summary>Clients' participations in tasks. See <see cref="IDfgetTaskMgr"/>.</summary>
public sealed class DfgetTaskMgr : IDfgetTaskMgr
{
    private readonly ConcurrentDictionary<DfgetTaskKey, DfgetTaskSnapshot> _tasks = new();
    private readonly TrackerMetrics _metrics;

    public DfgetTaskMgr(TrackerMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _metrics = metrics;
    }

    /// <inheritdoc />
    public DfgetTaskSnapshot Add(DfgetTaskSnapshot task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var added = task with { Status = DfgetTaskStatus.Waiting };
        _tasks[added.Key] = added;
        _metrics.DfgetTaskRegistered(added.CallSystem);
        return added;
    }

    /// <inheritdoc />
    public bool TryGet(DfgetTaskKey key, out DfgetTaskSnapshot task) => _tasks.TryGetValue(key, out task!);

    /// <inheritdoc />
    public DfgetTaskSnapshot Get(DfgetTaskKey key) =>
        _tasks.TryGetValue(key, out var task) ? task : throw DragonflyException.NotFound($"failed to get key {key} from map");

    /// <inheritdoc />
    public bool UpdateStatus(DfgetTaskKey key, DfgetTaskStatus status)
    {
        while (_tasks.TryGetValue(key, out var current))
        {
            if (current.Status == status)
            {
                return true;
            }

            if (_tasks.TryUpdate(key, current with { Status = status }, current))
            {
                if (status == DfgetTaskStatus.Failed)
                {
                    _metrics.DfgetTaskFailed(current.CallSystem);
                }

                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public IReadOnlyList<DfgetTaskSnapshot> ListByTask(TaskId taskId)
    {
        var result = new List<DfgetTaskSnapshot>();
        foreach (var (key, task) in _tasks)
        {
            if (key.TaskId == taskId)
            {
                result.Add(task);
            }
        }

        return result;
    }

    /// <inheritdoc />
    public IReadOnlyList<DfgetTaskSnapshot> List() => _tasks.Values.ToList();

    /// <inheritdoc />
    public bool Delete(DfgetTaskKey key) => _tasks.TryRemove(key, out _);
}
