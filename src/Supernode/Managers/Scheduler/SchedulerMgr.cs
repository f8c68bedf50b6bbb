using System.Buffers;
using System.Numerics;
using Dragonfly.Supernode.Managers.Progress;

namespace Dragonfly.Supernode.Managers.Scheduler;

/// <summary>
/// The piece scheduler (PROTOCOL §2.7). Candidates are the CDN's pieces the client neither has nor runs; they are shuffled
/// with the injected <see cref="Random"/> and then sorted by (holder count, distance to the mean of the running pieces,
/// shuffled position), so ties are random yet the order is consistent (the original called rand inside its comparator).
/// With nothing running, a client that no one else is downloading beside measures the distance from piece 0, as the
/// original always did; in a crowd the distance is left out then, so its peers start on different pieces.
/// The hot path allocates only the result: candidate buffers are pooled and the ordering is one packed 64-bit key per
/// candidate sorted as plain integers.
/// </summary>
/// <remarks>
/// A streaming client (<see cref="ClientProgress.Streaming"/>: registered with <c>dfdaemon: true</c>, which hands the bytes
/// to its caller in file order) is offered its candidates in ascending piece order instead: its caller's first byte waits
/// for piece 0, and every later byte for the pieces before it. Its uploaders are chosen as for anyone else; a piece with no
/// free uploader is skipped for this round, so the order is "near" piece order under load. Candidates are collected in
/// ascending order already, so this path neither shuffles nor sorts.
/// </remarks>
public sealed class SchedulerMgr : ISchedulerMgr
{
    private const int OrderBits = 20;
    private const int DistanceBits = 30;
    private const int MaxPackedCandidates = 1 << OrderBits;
    private const ulong OrderMask = (1UL << OrderBits) - 1;
    private const ulong DistanceMask = (1UL << DistanceBits) - 1;
    private const ulong HolderMask = (1UL << 14) - 1;
    private readonly TrackerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly Random _random;

    public SchedulerMgr(TrackerOptions options, TimeProvider timeProvider, Random random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(random);
        _options = options;
        _timeProvider = timeProvider;
        _random = random;
    }

    /// <inheritdoc />
    public ScheduleResult Schedule(TaskSwarm swarm, ClientProgress client, long nowTimestamp)
    {
        ArgumentNullException.ThrowIfNull(swarm);
        ArgumentNullException.ThrowIfNull(client);

        var limit = _options.PeerDownLimit;
        var running = client.Running.Count;
        if (running >= limit)
        {
            return ScheduleResult.Saturated;
        }

        ResetStaleSuperLoad(swarm, nowTimestamp);

        var cdn = swarm.CdnPieces.Words;
        var have = client.Succeeded.Words;
        var size = Math.Max(1, swarm.CdnPieces.Count);
        var pieceBuffer = ArrayPool<int>.Shared.Rent(size);
        var keyBuffer = ArrayPool<ulong>.Shared.Rent(size);
        try
        {
            var count = CollectCandidates(cdn, have, client, pieceBuffer);
            if (count == 0)
            {
                return ScheduleResult.NothingAvailable;
            }

            var pieces = pieceBuffer.AsSpan(0, count);
            var keys = keyBuffer.AsSpan(0, count);
            var packed = !client.Streaming && count <= MaxPackedCandidates;
            if (!client.Streaming)
            {
                Shuffle(pieces);
                ComputeKeys(swarm, client, pieces, keys);
                if (packed)
                {
                    keys.Sort();
                }
                else
                {
                    keys.Sort(pieces);
                }
            }

            var wanted = limit - running;
            var isolated = client.Peer.ClientErrorCount > _options.FailureCountLimit;
            List<PieceAssignment>? result = null;
            for (var i = 0; i < count; i++)
            {
                var pieceNum = packed ? pieces[(int)(keys[i] & OrderMask)] : pieces[i];
                var uploader = isolated ? null : FindUploader(swarm, client, pieceNum);
                if (uploader is not null)
                {
                    client.AddRunning(pieceNum, uploader, nowTimestamp);
                    (result ??= new List<PieceAssignment>(wanted)).Add(new PieceAssignment(pieceNum, uploader.Cid, uploader.Ip, uploader.Port, uploader.Path));
                }
                else if (swarm.SuperLoad + 1 <= _options.EffectiveCdnLoadLimit)
                {
                    swarm.SuperLoad++;
                    swarm.SuperLoadTouched = nowTimestamp;
                    client.AddRunning(pieceNum, null, nowTimestamp);
                    (result ??= new List<PieceAssignment>(wanted)).Add(new PieceAssignment(pieceNum, swarm.SupernodeCid, client.SupernodeIp, _options.DownloadPort, null));
                }
                else
                {
                    continue;
                }

                if (result.Count == wanted)
                {
                    break;
                }
            }

            return result is null ? ScheduleResult.NothingAvailable : new ScheduleResult(ScheduleStatus.Scheduled, result);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(pieceBuffer);
            ArrayPool<ulong>.Shared.Return(keyBuffer);
        }
    }

    /// <summary>The original resets a task's supernode load when it has not changed for 30 s; we check lazily on use.</summary>
    private void ResetStaleSuperLoad(TaskSwarm swarm, long nowTimestamp)
    {
        if (swarm.SuperLoad > 0 && _timeProvider.GetElapsedTime(swarm.SuperLoadTouched, nowTimestamp) >= _options.SuperLoadResetAfter)
        {
            swarm.SuperLoad = 0;
            swarm.SuperLoadTouched = nowTimestamp;
        }
    }

    /// <summary>The CDN's pieces the client neither has nor runs, in ascending piece order.</summary>
    private static int CollectCandidates(ReadOnlySpan<ulong> cdn, ReadOnlySpan<ulong> have, ClientProgress client, int[] buffer)
    {
        var count = 0;
        var running = client.Running;
        for (var w = 0; w < cdn.Length; w++)
        {
            var bits = cdn[w] & ~(w < have.Length ? have[w] : 0UL);
            while (bits != 0)
            {
                var pieceNum = (w << 6) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                if (running.Count == 0 || !running.ContainsKey(pieceNum))
                {
                    buffer[count++] = pieceNum;
                }
            }
        }

        return count;
    }

    private void Shuffle(Span<int> pieces)
    {
        // Pulls of different tasks run concurrently and share this Random, which is not thread-safe.
        lock (_random)
        {
            for (var i = pieces.Length - 1; i > 0; i--)
            {
                var j = _random.Next(i + 1);
                (pieces[i], pieces[j]) = (pieces[j], pieces[i]);
            }
        }
    }

    /// <summary>
    /// One sortable key per candidate: holder count (saturating, 14 bits), then distance to the running mean (saturating,
    /// 30 bits), then the shuffled position (20 bits), so a plain ascending sort of integers is the whole ordering and is
    /// stable with respect to the shuffle. Beyond 2^20 candidates the position is left out and the pieces are sorted with
    /// their keys (ties then keep a deterministic but unspecified order of the shuffled input).
    /// </summary>
    private static void ComputeKeys(TaskSwarm swarm, ClientProgress client, ReadOnlySpan<int> pieces, Span<ulong> keys)
    {
        // Distance to the mean of the running pieces, scaled by their count to stay an exact integer: |p·n − Σ|. With
        // nothing running: piece 0 for a client nobody else downloads beside (it has no one to trade with, and reading
        // front to back lets its whole-file md5, which runs in file order, follow the pieces as they arrive); no
        // distance otherwise, so a crowd's ties are random and its peers start on different pieces to trade.
        long n = client.Running.Count;
        var sum = client.RunningSum;
        var frontFirst = n == 0 && !AnyoneElseDownloading(swarm, client);
        var withOrder = pieces.Length <= MaxPackedCandidates;
        for (var i = 0; i < pieces.Length; i++)
        {
            var pieceNum = pieces[i];
            var holders = (ulong)Math.Min(swarm.HoldersOf(pieceNum)?.Count ?? 0, (int)HolderMask);
            var distance = (ulong)Math.Min(n == 0 ? (frontFirst ? pieceNum : 0) : Math.Abs((pieceNum * n) - sum), (long)DistanceMask);
            keys[i] = (holders << (DistanceBits + OrderBits)) | (distance << OrderBits) | (withOrder ? (ulong)i : 0UL);
        }
    }

    /// <summary>Whether another client of the task is still downloading it (every client counts while the CDN runs).</summary>
    private static bool AnyoneElseDownloading(TaskSwarm swarm, ClientProgress client)
    {
        foreach (var other in swarm.Clients.Values)
        {
            if (!ReferenceEquals(other, client) && !other.Removed && (swarm.PieceTotal < 0 || other.Succeeded.Count < swarm.PieceTotal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The first holder that can serve the piece now; holders that are gone, service-down or eliminated are removed.
    /// Takes the chosen holder's upload slot.
    /// </summary>
    private ClientProgress? FindUploader(TaskSwarm swarm, ClientProgress client, int pieceNum)
    {
        var holders = swarm.HoldersOf(pieceNum);
        if (holders is null)
        {
            return null;
        }

        for (var i = 0; i < holders.Count; i++)
        {
            var holder = holders[i];
            var peer = holder.Peer;
            if (holder.Removed || peer.IsRemoved || peer.IsServiceDown || peer.ServiceErrorCount >= _options.EliminationLimit)
            {
                holders.RemoveAt(i--);
                continue;
            }

            if (ReferenceEquals(holder, client) || ReferenceEquals(peer, client.Peer) || !holder.CanUpload)
            {
                continue;
            }

            if (client.Peer.HasBlacklisted(peer.Id))
            {
                continue;
            }

            if (peer.TryAcquireUpload(_options.PeerUpLimit))
            {
                return holder;
            }
        }

        return null;
    }
}
