using Dragonfly.Supernode.Managers.Progress;

namespace Dragonfly.Supernode.Managers.Scheduler;

/// <summary>
/// SchedulerMgr (PROTOCOL §2.7): picks which pieces a client downloads next and from whom. Pure in-memory logic (no IO, no
/// clock of its own, randomness from an injected <see cref="Random"/>), so it is unit-testable and fast. The caller holds the
/// swarm's gate; the scheduler reserves what it hands out (client running entries, peer upload load, supernode load) so
/// the limits hold across concurrent pulls.
/// </summary>
public interface ISchedulerMgr
{
    /// <summary>
    /// Up to <c>PeerDownLimit − running</c> pieces the client lacks, ordered rarest-first, then nearest to the mean of the
    /// client's running pieces (with none running, to piece 0 for a client alone in the task), ties random (a streaming client, <see cref="ClientProgress.Streaming"/>: lowest piece number
    /// first); each from the first eligible holder, else the supernode while its task load allows, else skipped.
    /// </summary>
    /// <param name="nowTimestamp">The current <see cref="TimeProvider.GetTimestamp"/> (for the supernode-load reset).</param>
    ScheduleResult Schedule(TaskSwarm swarm, ClientProgress client, long nowTimestamp);
}
