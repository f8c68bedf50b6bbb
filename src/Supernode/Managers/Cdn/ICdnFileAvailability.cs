using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>What part of a task's CDN file may be served on the download port.</summary>
/// <param name="ReadableLength">Wrapped bytes, from offset 0, that are completely written.</param>
/// <param name="Complete">True when <paramref name="ReadableLength"/> is the final file length.</param>
public readonly record struct CdnFileView(long ReadableLength, bool Complete);

/// <summary>Tells the download port which bytes of a CDN file are safe to serve (never a piece still being written).</summary>
public interface ICdnFileAvailability
{
    /// <summary>The readable view of a task's file, or null when the task has no servable file (unknown, failed, deleted).</summary>
    ValueTask<CdnFileView?> GetViewAsync(TaskId taskId, CancellationToken cancellationToken);
}

/// <summary>
/// Which tasks are "in memory" (disk GC never removes their files). The default is the CDN's own view (a task the
/// CDN has state for until <see cref="ICDNMgr.DeleteAsync"/>); the task manager may register its own.
/// </summary>
public interface ICdnTaskPresence
{
    bool IsInMemory(TaskId taskId);
}
