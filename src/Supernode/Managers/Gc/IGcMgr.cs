using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.Gc;

/// <summary>Metadata garbage collection (PROTOCOL §2.8): tasks idle for the expiry time and peers long service-down.</summary>
public interface IGcMgr
{
    /// <summary>
    /// Task GC for one task (also <c>DELETE /api/v1/tasks/{id}?full=</c>): marks its peers service-down, deletes its
    /// dfget-tasks, progress, CDN in-memory state (<paramref name="full"/>: also the CDN files) and the task. Idempotent.
    /// </summary>
    Task DeleteTaskAsync(TaskId taskId, bool full, CancellationToken cancellationToken);

    /// <summary>Deregisters a peer and drops its swarm state (<c>DELETE /api/v1/peers/{id}</c>). False when unknown.</summary>
    bool DeletePeer(PeerId peerId);

    /// <summary>One GC pass (tasks then peers); returns the numbers collected.</summary>
    Task<(int Tasks, int Peers)> RunOnceAsync(CancellationToken cancellationToken);
}
