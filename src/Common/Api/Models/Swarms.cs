using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>
/// A task's swarm as the supernode's scheduler sees it (<c>GET /api/v1/tasks/{id}/swarm</c>), for the live piece-bitmap
/// view: which pieces the CDN and each peer have, what is being fetched from whom, and who served the bytes. Piece sets
/// are <see cref="Pieces.PieceBitfield"/>s.
/// </summary>
public sealed record SwarmView
{
    [JsonPropertyName("taskID")]
    public string? TaskId { get; init; }

    [JsonPropertyName("cdnStatus")]
    public CdnStatus? CdnStatus { get; init; }

    /// <summary>Pieces of the task, -1 until the CDN has read the whole source.</summary>
    [JsonPropertyName("pieceTotal")]
    public int? PieceTotal { get; init; }

    /// <summary>How many pieces the bitfields describe: <c>pieceTotal</c>, or while it is unknown the highest piece seen + 1.</summary>
    [JsonPropertyName("width")]
    public int? Width { get; init; }

    /// <summary>Bitfield of the pieces the supernode's CDN has written.</summary>
    [JsonPropertyName("cdnPieces")]
    public string? CdnPieces { get; init; }

    /// <summary>Per piece, how many peers hold it (the supernode not counted).</summary>
    [JsonPropertyName("holders")]
    public IReadOnlyList<int>? Holders { get; init; }

    /// <summary>Pieces of this task the supernode is serving right now.</summary>
    [JsonPropertyName("supernodeLoad")]
    public int? SupernodeLoad { get; init; }

    [JsonPropertyName("piecesFromSupernode")]
    public long? PiecesFromSupernode { get; init; }

    /// <summary>Wrapped bytes of the pieces clients got from the supernode.</summary>
    [JsonPropertyName("bytesFromSupernode")]
    public long? BytesFromSupernode { get; init; }

    [JsonPropertyName("piecesFromPeers")]
    public long? PiecesFromPeers { get; init; }

    /// <summary>Wrapped bytes of the pieces clients got from other peers' uploaders.</summary>
    [JsonPropertyName("bytesFromPeers")]
    public long? BytesFromPeers { get; init; }

    /// <summary>Pieces clients already had on disk when scheduled again (after registering anew): no transfer.</summary>
    [JsonPropertyName("piecesReused")]
    public long? PiecesReused { get; init; }

    [JsonPropertyName("peers")]
    public IReadOnlyList<SwarmPeer>? Peers { get; init; }
}

/// <summary>One client (dfget download) in a <see cref="SwarmView"/>.</summary>
public sealed record SwarmPeer
{
    [JsonPropertyName("cID")]
    public string? Cid { get; init; }

    [JsonPropertyName("peerID")]
    public string? PeerId { get; init; }

    /// <summary>Bitfield of the pieces the client has.</summary>
    [JsonPropertyName("pieces")]
    public string? Pieces { get; init; }

    /// <summary>Bitfield of the pieces whose last attempt failed.</summary>
    [JsonPropertyName("failedPieces")]
    public string? FailedPieces { get; init; }

    /// <summary>The pieces being fetched now, each with the uploader it was scheduled from.</summary>
    [JsonPropertyName("running")]
    public IReadOnlyList<SwarmRunningPiece>? Running { get; init; }
}

/// <summary>A piece a client is fetching, and from whom.</summary>
public sealed record SwarmRunningPiece
{
    [JsonPropertyName("pieceNum")]
    public int? PieceNum { get; init; }

    /// <summary>The uploader's cID (the supernode's own cID for the download port).</summary>
    [JsonPropertyName("uploaderCID")]
    public string? UploaderCid { get; init; }
}
