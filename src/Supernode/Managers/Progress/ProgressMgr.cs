using System.Collections.Concurrent;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Scheduler;

namespace Dragonfly.Supernode.Managers.Progress;

/// <summary>
/// In-memory swarm bookkeeping (PROTOCOL §2.6). Swarms live in a <see cref="ConcurrentDictionary{TKey,TValue}"/>, each with
/// its own gate held only for in-memory work; peers' counters are shared across swarms and updated atomically.
/// </summary>
/// <remarks>
/// Decisions that differ from the original:
/// <list type="bullet">
/// <item>Piece state is one compact bitset per status (succeeded, failed) instead of 8 bits per piece.</item>
/// <item>Every load (peer upload slot, task supernode load) is tied to a running entry and released exactly once, when that
/// entry goes (report, piece-success, client removal, task removal, or abandonment after the task expiry time).</item>
/// <item>The uploader of a reported piece is taken from the running entry, not from the reported dstCid, so a stale cid after
/// a supernode migration (#752) neither fails the report nor releases the wrong load.</item>
/// <item>The supernode-load reset after 30 s untouched is checked lazily when the load is read, not by a 2 s timer.</item>
/// <item>Only p2p clients with an uploader port become piece holders, so rarity counts only possible uploaders.</item>
/// <item>A peer that joins a task again is alive: its service-down mark is cleared.</item>
/// </list>
/// </remarks>
public sealed partial class ProgressMgr : IProgressMgr
{
    private readonly ConcurrentDictionary<TaskId, TaskSwarm> _swarms = new();
    private readonly ConcurrentDictionary<PeerId, PeerProgress> _peers = new();
    private readonly ISchedulerMgr _scheduler;
    private readonly TrackerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly TrackerMetrics _metrics;

    public ProgressMgr(ISchedulerMgr scheduler, TrackerOptions options, TimeProvider timeProvider, TrackerMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(metrics);
        _scheduler = scheduler;
        _options = options;
        _timeProvider = timeProvider;
        _metrics = metrics;
    }

    /// <inheritdoc />
    public void InitTask(TaskId taskId) => GetOrAddSwarm(taskId);

    /// <inheritdoc />
    public void InitClient(ClientJoin join)
    {
        ArgumentNullException.ThrowIfNull(join);
        var peer = _peers.AddOrUpdate(
            join.PeerId,
            static (id, j) => new PeerProgress(id, j.Pattern),
            static (_, existing, j) =>
            {
                existing.Pattern = j.Pattern;
                existing.Revive();
                return existing;
            },
            join);
        var swarm = GetOrAddSwarm(join.TaskId);
        lock (swarm.Gate)
        {
            if (swarm.Clients.Remove(join.Cid, out var previous))
            {
                RemoveClientLocked(swarm, previous);
            }

            swarm.Clients[join.Cid] = new ClientProgress(join, peer);
        }
    }

    /// <inheritdoc />
    public void MarkCdnPiece(TaskId taskId, int pieceNum)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceNum);
        var swarm = GetOrAddSwarm(taskId);
        lock (swarm.Gate)
        {
            swarm.CdnPieces.Add(pieceNum);
        }

        swarm.NotifyChanged();
    }

    /// <inheritdoc />
    public void CompleteCdn(TaskId taskId, bool success, int pieceTotal)
    {
        var swarm = GetOrAddSwarm(taskId);
        lock (swarm.Gate)
        {
            swarm.CdnFailed = !success;
            swarm.PieceTotal = success ? pieceTotal : -1;
        }

        swarm.NotifyChanged();
    }

    /// <inheritdoc />
    public void ResetCdn(TaskId taskId)
    {
        if (_swarms.TryGetValue(taskId, out var swarm))
        {
            lock (swarm.Gate)
            {
                swarm.CdnPieces.Clear();
                swarm.CdnFailed = false;
                swarm.PieceTotal = -1;
            }
        }
    }

    /// <inheritdoc />
    public PieceUpdateOutcome UpdatePiece(TaskId taskId, Cid client, int pieceNum, PieceResult result, Cid dst, long pieceBytes = 0)
    {
        if (pieceNum < 0)
        {
            return PieceUpdateOutcome.InvalidPiece;
        }

        if (!_swarms.TryGetValue(taskId, out var swarm))
        {
            return PieceUpdateOutcome.UnknownClient;
        }

        lock (swarm.Gate)
        {
            if (!swarm.Clients.TryGetValue(client, out var progress))
            {
                return PieceUpdateOutcome.UnknownClient;
            }

            if (swarm.PieceTotal >= 0 && pieceNum >= swarm.PieceTotal)
            {
                return PieceUpdateOutcome.InvalidPiece;
            }

            // The running entry says who we assigned the piece to; it beats the reported dst (which may be stale, #752).
            ClientProgress? uploader;
            bool fromSupernode;
            if (progress.TryRemoveRunning(pieceNum, out var running))
            {
                uploader = running.Uploader;
                fromSupernode = uploader is null;
                Release(swarm, running);
            }
            else
            {
                fromSupernode = dst.IsSupernode;
                uploader = !fromSupernode && !dst.IsEmpty && swarm.Clients.TryGetValue(dst, out var u) ? u : null;
            }

            switch (result)
            {
                case PieceResult.Success or PieceResult.SemiSuccess:
                    if (progress.Succeeded.Add(pieceNum))
                    {
                        progress.Failed.Remove(pieceNum);
                        if (progress.CanUpload)
                        {
                            swarm.AddHolder(pieceNum, progress);
                        }

                        if (dst == client)
                        {
                            // The client had it on disk from before it registered again (dfget names itself as the source
                            // then): nothing was transferred, so neither the supernode nor a peer served it.
                            swarm.PiecesAlreadyHeld++;
                            _metrics.PieceReused();
                        }
                        else
                        {
                            CountServed(swarm, fromSupernode, pieceBytes);
                        }
                    }

                    progress.Peer.ResetClientErrors();
                    uploader?.Peer.ResetServiceErrors();
                    break;
                case PieceResult.Failed:
                    progress.Failed.Add(pieceNum);
                    progress.Peer.IncrementClientErrors();
                    if (uploader is not null && !ReferenceEquals(uploader.Peer, progress.Peer))
                    {
                        progress.Peer.Blacklist(uploader.Peer.Id);
                        uploader.Peer.IncrementServiceErrors();
                    }

                    break;
            }

            swarm.NotifyChanged();
            return PieceUpdateOutcome.Recorded;
        }
    }

    /// <inheritdoc />
    public bool IsClientFinished(TaskId taskId, Cid client)
    {
        if (!_swarms.TryGetValue(taskId, out var swarm))
        {
            return false;
        }

        lock (swarm.Gate)
        {
            return swarm.PieceTotal >= 0 && !swarm.CdnFailed && swarm.Clients.TryGetValue(client, out var progress)
                && progress.Succeeded.Count >= swarm.PieceTotal;
        }
    }

    /// <inheritdoc />
    public Task NextChange(TaskId taskId) => _swarms.TryGetValue(taskId, out var swarm) ? swarm.NextChange() : new TaskCompletionSource().Task;

    /// <inheritdoc />
    public ScheduleResult Schedule(TaskId taskId, Cid client)
    {
        if (!_swarms.TryGetValue(taskId, out var swarm))
        {
            return ScheduleResult.UnknownClient;
        }

        var start = _timeProvider.GetTimestamp();
        ScheduleResult result;
        lock (swarm.Gate)
        {
            if (!swarm.Clients.TryGetValue(client, out var progress))
            {
                return ScheduleResult.UnknownClient;
            }

            result = _scheduler.Schedule(swarm, progress, start);
        }

        _metrics.ScheduleDuration(_timeProvider.GetElapsedTime(start).TotalMilliseconds);
        return result;
    }

    /// <inheritdoc />
    public ServiceDownOutcome MarkServiceDown(PeerId peerId)
    {
        if (!_peers.TryGetValue(peerId, out var peer))
        {
            return ServiceDownOutcome.Unknown;
        }

        return peer.TryMarkServiceDown(_timeProvider.GetUtcNow().ToUnixTimeMilliseconds())
            ? ServiceDownOutcome.MarkedDown
            : ServiceDownOutcome.AlreadyOffline;
    }

    /// <inheritdoc />
    public IReadOnlyList<PeerId> ListServiceDownBefore(DateTimeOffset threshold)
    {
        var limit = threshold.ToUnixTimeMilliseconds();
        var result = new List<PeerId>();
        foreach (var (id, peer) in _peers)
        {
            var down = peer.ServiceDownAtMs;
            if (down != 0 && down <= limit)
            {
                result.Add(id);
            }
        }

        return result;
    }

    /// <summary>True when the peer has swarm state.</summary>
    public bool HasPeer(PeerId peerId) => _peers.ContainsKey(peerId);

    /// <inheritdoc />
    public int ReleaseStaleRunning(TimeSpan maxAge)
    {
        var now = _timeProvider.GetTimestamp();
        var released = 0;
        List<int>? stale = null;
        foreach (var swarm in _swarms.Values)
        {
            lock (swarm.Gate)
            {
                foreach (var client in swarm.Clients.Values)
                {
                    stale?.Clear();
                    foreach (var (pieceNum, running) in client.Running)
                    {
                        if (_timeProvider.GetElapsedTime(running.Started, now) >= maxAge)
                        {
                            (stale ??= []).Add(pieceNum);
                        }
                    }

                    if (stale is null)
                    {
                        continue;
                    }

                    foreach (var pieceNum in stale)
                    {
                        if (client.TryRemoveRunning(pieceNum, out var running))
                        {
                            Release(swarm, running);
                            released++;
                        }
                    }
                }
            }
        }

        return released;
    }

    /// <inheritdoc />
    public bool DeleteClient(TaskId taskId, Cid client)
    {
        if (!_swarms.TryGetValue(taskId, out var swarm))
        {
            return false;
        }

        lock (swarm.Gate)
        {
            if (!swarm.Clients.Remove(client, out var progress))
            {
                return false;
            }

            RemoveClientLocked(swarm, progress);
            return true;
        }
    }

    /// <inheritdoc />
    public bool DeleteTask(TaskId taskId)
    {
        if (!_swarms.TryRemove(taskId, out var swarm))
        {
            return false;
        }

        lock (swarm.Gate)
        {
            foreach (var client in swarm.Clients.Values)
            {
                RemoveClientLocked(swarm, client);
            }

            swarm.Clients.Clear();
        }

        return true;
    }

    /// <inheritdoc />
    public bool DeletePeer(PeerId peerId)
    {
        if (!_peers.TryRemove(peerId, out var peer))
        {
            return false;
        }

        peer.MarkRemoved();
        return true;
    }

    private TaskSwarm GetOrAddSwarm(TaskId taskId) =>
        _swarms.GetOrAdd(taskId, static (id, ip) => new TaskSwarm(id, Cid.ForSupernode(ip, id)), _options.AdvertiseIp);

    private void RemoveClientLocked(TaskSwarm swarm, ClientProgress client)
    {
        client.Removed = true;
        foreach (var running in client.Running.Values)
        {
            Release(swarm, running);
        }

        client.Running.Clear();
        client.RunningSum = 0;
    }

    private void Release(TaskSwarm swarm, RunningPiece running)
    {
        if (running.Uploader is null)
        {
            if (swarm.SuperLoad > 0)
            {
                swarm.SuperLoad--;
            }

            swarm.SuperLoadTouched = _timeProvider.GetTimestamp();
        }
        else
        {
            running.Uploader.Peer.ReleaseUpload();
        }

        swarm.NotifyChanged();
    }

    private void CountServed(TaskSwarm swarm, bool fromSupernode, long bytes)
    {
        if (fromSupernode)
        {
            swarm.PiecesFromSupernode++;
            swarm.BytesFromSupernode += bytes;
        }
        else
        {
            swarm.PiecesFromPeers++;
            swarm.BytesFromPeers += bytes;
        }

        _metrics.PieceServed(fromSupernode, bytes);
    }
}
