using Dragonfly.Common.Errors;
using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.DfgetTasks;

/// <summary>DfgetTaskMgr: clients' participations in tasks, keyed by <see cref="DfgetTaskKey"/> (cid@taskId).</summary>
public interface IDfgetTaskMgr
{
    /// <summary>
    /// Adds (or replaces, on re-registration of the same cid) the dfget-task, status WAITING.
    /// </summary>
    DfgetTaskSnapshot Add(DfgetTaskSnapshot task);

    bool TryGet(DfgetTaskKey key, out DfgetTaskSnapshot task);

    /// <exception cref="DragonflyException">DataNotFound when unknown.</exception>
    DfgetTaskSnapshot Get(DfgetTaskKey key);

    /// <summary>Sets the status; false when unknown.</summary>
    bool UpdateStatus(DfgetTaskKey key, DfgetTaskStatus status);

    /// <summary>The dfget-tasks of one task.</summary>
    IReadOnlyList<DfgetTaskSnapshot> ListByTask(TaskId taskId);

    /// <summary>All dfget-tasks (a copy; for metrics).</summary>
    IReadOnlyList<DfgetTaskSnapshot> List();

    bool Delete(DfgetTaskKey key);
}
