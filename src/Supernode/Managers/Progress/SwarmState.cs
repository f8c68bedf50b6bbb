using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Peers;

namespace Dragonfly.Supernode.Managers.Progress;

/// <summary>
/// One peer's counters across all its tasks (PROTOCOL §2.6). Counters are updated with interlocked operations because a
/// peer takes part in several swarms, each guarded by its own gate; the blacklist has its own small lock.
/// </summary>
public sealed class PeerProgress
{
    private readonly Lock _blacklistGate = new();
    private readonly Dictionary<PeerId, int> _blacklist = [];
    private int _producerLoad;
    private int _clientErrorCount;
    private int _serviceErrorCount;
    private long _serviceDownAtMs;
    private volatile int _blacklistCount;
    private volatile bool _removed;

    internal PeerProgress(PeerId id, PeerPattern pattern)
    {
        Id = id;
        Pattern = pattern;
    }

    public PeerId Id { get; }

    public PeerPattern Pattern { get; internal set; }

    /// <summary>Pieces this peer is serving right now.</summary>
    public int ProducerLoad => Volatile.Read(ref _producerLoad);

    /// <summary>Consecutive failed downloads of this peer (as a client); reset by a success.</summary>
    public int ClientErrorCount => Volatile.Read(ref _clientErrorCount);

    /// <summary>Consecutive failed uploads of this peer; reset by a success. At the elimination limit it is not chosen.</summary>
    public int ServiceErrorCount => Volatile.Read(ref _serviceErrorCount);

    /// <summary>Unix milliseconds when the peer went service-down, 0 while up.</summary>
    public long ServiceDownAtMs => Volatile.Read(ref _serviceDownAtMs);

    public bool IsServiceDown => ServiceDownAtMs != 0;

    /// <summary>True once the peer's state was deleted; holders pointing at it are stale.</summary>
    public bool IsRemoved => _removed;

    internal void MarkRemoved() => _removed = true;

    /// <summary>Takes one upload slot if <c>load + 1 ≤ limit</c> (atomic across swarms).</summary>
    internal bool TryAcquireUpload(int limit)
    {
        while (true)
        {
            var current = Volatile.Read(ref _producerLoad);
            if (current + 1 > limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _producerLoad, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    internal void ReleaseUpload()
    {
        while (true)
        {
            var current = Volatile.Read(ref _producerLoad);
            if (current <= 0 || Interlocked.CompareExchange(ref _producerLoad, current - 1, current) == current)
            {
                return;
            }
        }
    }

    internal void IncrementClientErrors() => Interlocked.Increment(ref _clientErrorCount);

    internal void ResetClientErrors() => Volatile.Write(ref _clientErrorCount, 0);

    internal void IncrementServiceErrors() => Interlocked.Increment(ref _serviceErrorCount);

    internal void ResetServiceErrors() => Volatile.Write(ref _serviceErrorCount, 0);

    /// <summary>Sets the service-down time once; false when the peer was already down.</summary>
    internal bool TryMarkServiceDown(long unixMs) =>
        Interlocked.CompareExchange(ref _serviceDownAtMs, Math.Max(1, unixMs), 0) == 0;

    /// <summary>The peer joined a task again, so it is alive: clears its service-down time.</summary>
    internal void Revive() => Volatile.Write(ref _serviceDownAtMs, 0);

    /// <summary>Adds a failure of <paramref name="dst"/> to this peer's blacklist.</summary>
    internal void Blacklist(PeerId dst)
    {
        lock (_blacklistGate)
        {
            _blacklist[dst] = _blacklist.GetValueOrDefault(dst) + 1;
            _blacklistCount = _blacklist.Count;
        }
    }

    /// <summary>True when this peer saw a failure from <paramref name="dst"/>.</summary>
    internal bool HasBlacklisted(PeerId dst)
    {
        if (_blacklistCount == 0)
        {
            return false;
        }

        lock (_blacklistGate)
        {
            return _blacklist.ContainsKey(dst);
        }
    }

    internal PeerProgressSnapshot Snapshot()
    {
        Dictionary<PeerId, int> blacklist;
        lock (_blacklistGate)
        {
            blacklist = new Dictionary<PeerId, int>(_blacklist);
        }

        var down = ServiceDownAtMs;
        return new PeerProgressSnapshot(Id, Pattern, ProducerLoad, ClientErrorCount, ServiceErrorCount,
            down == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(down), blacklist);
    }
}

/// <summary>
/// A piece a client is downloading right now; <see cref="Uploader"/> null means the supernode serves it.
/// <see cref="Started"/> is the <see cref="TimeProvider.GetTimestamp"/> of the assignment (for releasing abandoned entries).
/// </summary>
internal readonly record struct RunningPiece(ClientProgress? Uploader, long Started);

/// <summary>One client's pieces in one swarm. Guarded by the swarm's gate.</summary>
public sealed class ClientProgress
{
    internal ClientProgress(ClientJoin join, PeerProgress peer)
    {
        Cid = join.Cid;
        Peer = peer;
        Ip = join.Ip;
        Port = join.Port;
        Path = join.Path;
        SupernodeIp = join.SupernodeIp;
        Streaming = join.Streaming;
    }

    public Cid Cid { get; }

    public PeerProgress Peer { get; }

    public string Ip { get; }

    public int Port { get; }

    public string Path { get; }

    public string SupernodeIp { get; }

    /// <summary>The client streams the file in piece order (a dfdaemon): it is scheduled lowest piece first.</summary>
    public bool Streaming { get; }

    internal PieceBitset Succeeded { get; } = new();

    internal PieceBitset Failed { get; } = new();

    internal Dictionary<int, RunningPiece> Running { get; } = [];

    /// <summary>Sum of the running piece numbers (for the mean used by the nearest-first ordering).</summary>
    internal long RunningSum { get; set; }

    /// <summary>True once removed from its swarm; holder entries pointing at it are stale.</summary>
    internal bool Removed { get; set; }

    /// <summary>Can serve pieces to others: a p2p peer with an uploader port.</summary>
    internal bool CanUpload => Port > 0 && Peer.Pattern == PeerPattern.P2P;

    internal void AddRunning(int pieceNum, ClientProgress? uploader, long startedTimestamp = 0)
    {
        Running[pieceNum] = new RunningPiece(uploader, startedTimestamp);
        RunningSum += pieceNum;
    }

    internal bool TryRemoveRunning(int pieceNum, out RunningPiece running)
    {
        if (Running.Remove(pieceNum, out running))
        {
            RunningSum -= pieceNum;
            return true;
        }

        return false;
    }
}

/// <summary>
/// One task's swarm: the CDN's pieces, each piece's holders, the supernode's load and the clients. Every member is
/// guarded by <see cref="Gate"/>.
/// </summary>
public sealed class TaskSwarm
{
    private List<ClientProgress>?[] _holders = new List<ClientProgress>?[16];
    private TaskCompletionSource? _nextChange;

    internal TaskSwarm(TaskId taskId, Cid supernodeCid)
    {
        TaskId = taskId;
        SupernodeCid = supernodeCid;
    }

    public TaskId TaskId { get; }

    /// <summary>The supernode's cid in this task (<c>cdnnode:&lt;ip&gt;~&lt;taskId&gt;</c>).</summary>
    public Cid SupernodeCid { get; }

    internal Lock Gate { get; } = new();

    /// <summary>
    /// Completes at the next change that may let a waiting pull schedule something: a CDN piece written or the CDN done, a
    /// piece reported, a running piece released. Allocated only while someone waits.
    /// </summary>
    internal Task NextChange()
    {
        var current = Volatile.Read(ref _nextChange);
        if (current is not null)
        {
            return current.Task;
        }

        var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return (Interlocked.CompareExchange(ref _nextChange, fresh, null) ?? fresh).Task;
    }

    /// <summary>Wakes the pulls waiting on <see cref="NextChange"/> (their continuations run asynchronously, off the caller's lock).</summary>
    internal void NotifyChanged() => Interlocked.Exchange(ref _nextChange, null)?.TrySetResult();

    internal PieceBitset CdnPieces { get; } = new();

    /// <summary>-1 until the CDN succeeded.</summary>
    internal int PieceTotal { get; set; } = -1;

    internal bool CdnFailed { get; set; }

    /// <summary>Pieces the supernode serves right now in this task.</summary>
    internal int SuperLoad { get; set; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> of the last change of <see cref="SuperLoad"/>.</summary>
    internal long SuperLoadTouched { get; set; }

    internal Dictionary<Cid, ClientProgress> Clients { get; } = [];

    internal long PiecesFromSupernode { get; set; }

    internal long BytesFromSupernode { get; set; }

    internal long PiecesFromPeers { get; set; }

    internal long BytesFromPeers { get; set; }

    /// <summary>Pieces clients reported as already on their disk when scheduled again (after registering anew).</summary>
    internal long PiecesAlreadyHeld { get; set; }

    internal int HolderSlots => _holders.Length;

    /// <summary>The holders of a piece (null when none recorded).</summary>
    internal List<ClientProgress>? HoldersOf(int pieceNum) =>
        (uint)pieceNum < (uint)_holders.Length ? _holders[pieceNum] : null;

    internal void AddHolder(int pieceNum, ClientProgress client)
    {
        if (pieceNum >= _holders.Length)
        {
            Array.Resize(ref _holders, Math.Max(pieceNum + 1, _holders.Length * 2));
        }

        // A client becomes a holder once per piece (its success bitset guards the call), so no duplicate check is needed.
        (_holders[pieceNum] ??= []).Add(client);
    }

    internal PieceSourceStats Stats => new(PiecesFromSupernode, BytesFromSupernode, PiecesFromPeers, BytesFromPeers, PiecesAlreadyHeld);
}
