using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Peers;

namespace Dragonfly.Supernode.Managers.Progress;

/// <summary>A client's report about one piece (wire 500 FAILED, 501 SUCCESS, 502 INVALID, 503 SEMISUC).</summary>
public enum PieceResult
{
    Failed = 500,
    Success = 501,
    Invalid = 502,
    SemiSuccess = 503,
}

/// <summary>What <see cref="IProgressMgr.InitClient"/> needs about a client joining a task.</summary>
/// <param name="Ip">The client peer's IP (its uploader address).</param>
/// <param name="Port">The client's uploader port (0 = no uploader).</param>
/// <param name="Path">The client's uploader path for this task (<c>/peer/file/...</c>).</param>
/// <param name="SupernodeIp">The supernode IP the client registered with.</param>
/// <param name="Streaming">The client hands the file to its caller in piece order while downloading (it registered with
/// <c>dfdaemon: true</c>), so the scheduler gives it the lowest pieces first.</param>
public sealed record ClientJoin(
    TaskId TaskId, Cid Cid, PeerId PeerId, string Ip, int Port, string Path, string SupernodeIp, PeerPattern Pattern, bool Streaming = false);

/// <summary>The result of recording a piece report.</summary>
public enum PieceUpdateOutcome
{
    Recorded,

    /// <summary>The task or the reporting client has no progress state.</summary>
    UnknownClient,

    /// <summary>The piece number is beyond the task's piece total.</summary>
    InvalidPiece,
}

/// <summary>The result of a service-down report (<c>/peer/service/down</c>).</summary>
public enum ServiceDownOutcome
{
    /// <summary>The peer is now marked service-down.</summary>
    MarkedDown,

    /// <summary>The peer was already service-down (the original answers 500 "has been offline").</summary>
    AlreadyOffline,

    /// <summary>The peer has no state (e.g. already collected, issue #844).</summary>
    Unknown,
}

/// <summary>A read-only copy of one peer's counters.</summary>
public sealed record PeerProgressSnapshot(
    PeerId PeerId,
    PeerPattern Pattern,
    int ProducerLoad,
    int ClientErrorCount,
    int ServiceErrorCount,
    DateTimeOffset? ServiceDownTime,
    IReadOnlyDictionary<PeerId, int> Blacklist);

/// <summary>A read-only copy of one client's pieces in a swarm (for a live piece-bitmap view).</summary>
/// <param name="SucceededPieces">Piece numbers the client has (ascending).</param>
/// <param name="FailedPieces">Piece numbers whose last attempt failed.</param>
/// <param name="RunningPieces">Piece number → uploader cid (the supernode's cid for supernode pieces).</param>
public sealed record ClientProgressSnapshot(
    Cid Cid,
    PeerId PeerId,
    IReadOnlyList<int> SucceededPieces,
    IReadOnlyList<int> FailedPieces,
    IReadOnlyDictionary<int, Cid> RunningPieces);

/// <summary>A read-only copy of one task's swarm.</summary>
/// <param name="PieceTotal">Known once the CDN succeeded, else -1.</param>
/// <param name="CdnPieces">Pieces the supernode has.</param>
/// <param name="Holders">Piece number → number of peers holding it (supernode not counted).</param>
public sealed record SwarmSnapshot(
    TaskId TaskId,
    int PieceTotal,
    IReadOnlyList<int> CdnPieces,
    IReadOnlyList<int> Holders,
    int SuperLoad,
    IReadOnlyList<ClientProgressSnapshot> Clients,
    PieceSourceStats Stats);

/// <summary>
/// Who served a task's pieces: counts and wrapped bytes, supernode vs peers (Prometheus byte accounting), and how many
/// pieces clients reported as already on their disk (no transfer, so counted in neither).
/// </summary>
public readonly record struct PieceSourceStats(long PiecesFromSupernode, long BytesFromSupernode, long PiecesFromPeers, long BytesFromPeers, long PiecesAlreadyHeld = 0);
