using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.Progress;

/// <summary>
/// ProgressMgr (PROTOCOL §2.6): who has which piece. Per task: the CDN's pieces, the holders of each piece, the supernode's
/// load; per client: succeeded/failed pieces and running pieces; per peer: upload load, error counters, service-down time,
/// blacklist. Also performs scheduling for a pull (<see cref="Schedule"/>) under the task's lock.
/// </summary>
public interface IProgressMgr
{
    /// <summary>Creates the task's swarm state if missing (idempotent).</summary>
    void InitTask(TaskId taskId);

    /// <summary>Adds a client to a task's swarm (replacing an earlier join of the same cid), creating the peer's state if needed.</summary>
    void InitClient(ClientJoin join);

    /// <summary>The CDN has piece <paramref name="pieceNum"/> on disk: it becomes available to clients at once.</summary>
    void MarkCdnPiece(TaskId taskId, int pieceNum);

    /// <summary>The CDN finished: on success the piece total becomes known (finish detection); on failure nothing more is served.</summary>
    void CompleteCdn(TaskId taskId, bool success, int pieceTotal);

    /// <summary>Forgets the CDN's pieces of a task (before a CDN re-run after a failure).</summary>
    void ResetCdn(TaskId taskId);

    /// <summary>
    /// Records a client's piece result. Success/semi-success: piece added to the client's set and the client becomes a
    /// holder, counters of both sides reset. Failure: dst blacklisted by the client, client error count and dst service error
    /// count incremented. Either way a running entry for the piece is released (dst upload load or task supernode load).
    /// <paramref name="dst"/> is the uploader's cid as reported; an unknown or stale cid is tolerated (issue #752), the
    /// running entry is authoritative. <paramref name="pieceBytes"/> (wrapped length) feeds the served-bytes accounting.
    /// </summary>
    PieceUpdateOutcome UpdatePiece(TaskId taskId, Cid client, int pieceNum, PieceResult result, Cid dst, long pieceBytes = 0);

    /// <summary>True when the client has all pieces of a task whose CDN succeeded.</summary>
    bool IsClientFinished(TaskId taskId, Cid client);

    /// <summary>
    /// Schedules up to (down-limit − running) pieces for <paramref name="client"/> with <see cref="Scheduler.ISchedulerMgr"/>
    /// and reserves them (running entries, peer upload load, supernode load).
    /// </summary>
    Scheduler.ScheduleResult Schedule(TaskId taskId, Cid client);

    /// <summary>
    /// Completes at the task's next change that may let a waiting pull schedule something (a CDN piece, the CDN done, a piece
    /// reported, a running piece released); never for a task without a swarm. Get it before scheduling, so no change is missed.
    /// </summary>
    Task NextChange(TaskId taskId);

    /// <summary>Marks a peer service-down now (it stops being chosen as an uploader).</summary>
    ServiceDownOutcome MarkServiceDown(PeerId peerId);

    /// <summary>Peers that went service-down at or before <paramref name="threshold"/>.</summary>
    IReadOnlyList<PeerId> ListServiceDownBefore(DateTimeOffset threshold);

    /// <summary>A copy of a peer's counters, or null.</summary>
    PeerProgressSnapshot? GetPeer(PeerId peerId);

    /// <summary>A copy of a task's swarm (piece bitmaps per client, holders, stats), or null.</summary>
    SwarmSnapshot? GetSwarm(TaskId taskId);

    /// <summary>Served-piece accounting of a task, or null.</summary>
    PieceSourceStats? GetStats(TaskId taskId);

    /// <summary>
    /// Releases running entries assigned at least <paramref name="maxAge"/> ago (a client that died mid-piece would otherwise
    /// hold its uploader's slot, or the supernode's, for as long as the task lives). Returns how many were released.
    /// </summary>
    int ReleaseStaleRunning(TimeSpan maxAge);

    /// <summary>Removes a client from a task's swarm, releasing its running pieces.</summary>
    bool DeleteClient(TaskId taskId, Cid client);

    /// <summary>Removes a task's swarm (all its clients).</summary>
    bool DeleteTask(TaskId taskId);

    /// <summary>True when the peer has swarm state.</summary>
    bool HasPeer(PeerId peerId);

    /// <summary>Removes a peer's state; it is dropped from every holder set lazily.</summary>
    bool DeletePeer(PeerId peerId);
}
