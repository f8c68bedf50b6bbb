using Dragonfly.Common.Errors;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Cdn;

namespace Dragonfly.Supernode.Managers.Tasks;

/// <summary>
/// TaskMgr: the supernode's tasks by <see cref="TaskId"/> (PROTOCOL §2.2, §2.3): identity and conflict rules, the source
/// probe, piece sizing, CDN status and access times. It does not register peers or dfget-tasks; see
/// <see cref="Registration.IRegistrationService"/> for the whole registration.
/// </summary>
public interface ITaskMgr
{
    /// <summary>
    /// Returns the task for <paramref name="spec"/>, creating it when new: the task id is computed from the task URL,
    /// md5/identifier and an exact <c>Range</c> header; a new task's source is probed (outside any lock) to size its pieces.
    /// </summary>
    /// <exception cref="DragonflyException">
    /// <see cref="ErrorCode.TaskIdConflict"/> when the id exists with a different task URL, md5 or identifier;
    /// <see cref="ErrorCode.AuthenticationRequired"/> on 401/407 from the source;
    /// <see cref="ErrorCode.UrlNotReachable"/> on 404 (remembered for <see cref="TrackerOptions.FailAccessInterval"/>);
    /// <see cref="ErrorCode.InvalidValue"/> for a bad URL. No task is left behind when it throws.
    /// </exception>
    Task<TaskRegistrationResult> GetOrCreateAsync(TaskSpec spec, CancellationToken cancellationToken);

    /// <summary>The task, or false when unknown.</summary>
    bool TryGet(TaskId taskId, out TaskSnapshot task);

    /// <summary>The task.</summary>
    /// <exception cref="DragonflyException"><see cref="ErrorCode.DataNotFound"/> when unknown.</exception>
    TaskSnapshot Get(TaskId taskId);

    /// <summary>All tasks (a copy).</summary>
    IReadOnlyList<TaskSnapshot> List();

    /// <summary>Records an access (registration or pull) so the task is not collected. False when unknown.</summary>
    bool Touch(TaskId taskId);

    /// <summary>Applies the CDN's final result: SUCCESS with realMd5, wrapped length and the real piece total, or FAILED.</summary>
    bool CompleteCdn(TaskId taskId, CdnResult result);

    /// <summary>
    /// Moves a task whose CDN is WAITING/FAILED/SOURCE_ERROR to RUNNING; true when the caller must trigger the CDN.
    /// </summary>
    bool TryStartCdn(TaskId taskId);

    /// <summary>Tasks whose last access is at or before <paramref name="threshold"/>.</summary>
    IReadOnlyList<TaskId> ListIdleSince(DateTimeOffset threshold);

    /// <summary>Forgets a task (its CDN files are the CDN's business). False when unknown.</summary>
    bool Remove(TaskId taskId);

    /// <summary>
    /// Forgets a task and runs <paramref name="cleanUp"/> (cancelling its CDN run, deleting its files) before the same task
    /// can be created again: a registration for it meanwhile waits, so a task recreated at once (a client registering
    /// again with a supernode that just dropped it) never gets a CDN run or files the clean-up is still removing.
    /// False when the task was unknown (the clean-up runs all the same).
    /// </summary>
    Task<bool> RemoveAsync(TaskId taskId, Func<Task> cleanUp);
}
