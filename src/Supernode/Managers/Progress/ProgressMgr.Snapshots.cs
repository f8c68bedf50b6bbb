using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.Progress;

/// <summary>Read-only copies of the swarm state (for a live piece-bitmap view, diagnostics and metrics).</summary>
public sealed partial class ProgressMgr
{
    /// <inheritdoc />
    public PeerProgressSnapshot? GetPeer(PeerId peerId) => _peers.TryGetValue(peerId, out var peer) ? peer.Snapshot() : null;

    /// <inheritdoc />
    public SwarmSnapshot? GetSwarm(TaskId taskId)
    {
        if (!_swarms.TryGetValue(taskId, out var swarm))
        {
            return null;
        }

        lock (swarm.Gate)
        {
            var holders = new int[swarm.HolderSlots];
            var last = -1;
            for (var i = 0; i < holders.Length; i++)
            {
                holders[i] = swarm.HoldersOf(i)?.Count ?? 0;
                if (holders[i] > 0)
                {
                    last = i;
                }
            }

            var length = Math.Max(last + 1, Math.Max(swarm.PieceTotal, 0));
            var clients = new List<ClientProgressSnapshot>(swarm.Clients.Count);
            foreach (var client in swarm.Clients.Values)
            {
                var running = new Dictionary<int, Cid>(client.Running.Count);
                foreach (var (pieceNum, entry) in client.Running)
                {
                    running[pieceNum] = entry.Uploader?.Cid ?? swarm.SupernodeCid;
                }

                clients.Add(new ClientProgressSnapshot(client.Cid, client.Peer.Id, client.Succeeded.ToArray(), client.Failed.ToArray(), running));
            }

            return new SwarmSnapshot(taskId, swarm.PieceTotal, swarm.CdnPieces.ToArray(), holders.AsSpan(0, Math.Min(length, holders.Length)).ToArray(),
                swarm.SuperLoad, clients, swarm.Stats);
        }
    }

    /// <inheritdoc />
    public PieceSourceStats? GetStats(TaskId taskId)
    {
        if (!_swarms.TryGetValue(taskId, out var swarm))
        {
            return null;
        }

        lock (swarm.Gate)
        {
            return swarm.Stats;
        }
    }
}
