using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>A piece to download, as scheduled by a v1 pull.</summary>
public sealed record PieceInfo
{
    /// <summary>Peer ID of the uploader to download the piece from (<c>pID</c>).</summary>
    [JsonPropertyName("pID")]
    public string? PeerId { get; init; }

    /// <summary>Wrapped range, e.g. <c>0-4194303</c>.</summary>
    [JsonPropertyName("pieceRange")]
    public string? PieceRange { get; init; }

    [JsonPropertyName("pieceSize")]
    public int? PieceSize { get; init; }

    /// <summary><c>&lt;md5 hex of the wrapped piece&gt;:&lt;wrapped length&gt;</c>.</summary>
    [JsonPropertyName("pieceMD5")]
    public string? PieceMd5 { get; init; }

    [JsonPropertyName("peerIP")]
    public string? PeerIp { get; init; }

    [JsonPropertyName("peerPort")]
    public int? PeerPort { get; init; }

    [JsonPropertyName("path")]
    public string? Path { get; init; }
}

/// <summary>
/// The pull parameters of <c>GET /api/v1/tasks/{id}/pieces</c>. They travel as query parameters (a GET body is not
/// portable); this record is their documented shape and the argument of
/// <see cref="Client.SupernodeClientExtensions.PullPieceTasksAsync(Client.ISupernodeClient, string, string, PiecePullRequest, System.Threading.CancellationToken)"/>.
/// </summary>
public sealed record PiecePullRequest
{
    /// <summary>pID of the PieceInfo the last piece came from.</summary>
    [JsonPropertyName("dstPID")]
    public string? DstPid { get; init; }

    [JsonPropertyName("dfgetTaskStatus")]
    public PiecePullStatus? DfgetTaskStatus { get; init; }

    [JsonPropertyName("pieceResult")]
    public PieceResult? PieceResult { get; init; }

    [JsonPropertyName("pieceRange")]
    public string? PieceRange { get; init; }

    /// <summary>Hold a "wait" answer up to this many milliseconds for the swarm to change (0–10,000); null or 0: answer at once.</summary>
    [JsonPropertyName("waitMs")]
    public int? WaitMs { get; init; }
}

/// <summary>
/// The outcome of a v1 pull, always HTTP 200. <see cref="PiecePullState.Continue"/>: <see cref="Pieces"/> is set (legacy 601);
/// <see cref="PiecePullState.Wait"/>: ask again later, maybe with a <see cref="Message"/> (legacy 602);
/// <see cref="PiecePullState.Finished"/>: <see cref="Md5"/> (source md5) and <see cref="FileLength"/> (wrapped length) are set (legacy 600).
/// </summary>
public sealed record PiecePullResponse
{
    [JsonPropertyName("state")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public PiecePullState State { get; init; }

    [JsonPropertyName("pieces")]
    public IReadOnlyList<PieceInfo>? Pieces { get; init; }

    [JsonPropertyName("md5")]
    public string? Md5 { get; init; }

    [JsonPropertyName("fileLength")]
    public long? FileLength { get; init; }

    [JsonPropertyName("message")]
    public string? Message { get; init; }

    /// <summary>On a held <see cref="PiecePullState.Wait"/>: how long the supernode held it, so the client may ask again at once.</summary>
    [JsonPropertyName("waitedMs")]
    public long? WaitedMs { get; init; }

    public static PiecePullResponse Continue(IReadOnlyList<PieceInfo> pieces) => new() { State = PiecePullState.Continue, Pieces = pieces };

    public static PiecePullResponse Wait(string? message = null, long? waitedMs = null) =>
        new() { State = PiecePullState.Wait, Message = message, WaitedMs = waitedMs };

    public static PiecePullResponse Finished(string? md5, long fileLength) => new() { State = PiecePullState.Finished, Md5 = md5, FileLength = fileLength };
}

/// <summary>Body of <c>PUT /api/v1/tasks/{id}/pieces/{pieceRange}</c>.</summary>
public sealed record PieceUpdateRequest
{
    /// <summary>cID of the downloader.</summary>
    [JsonPropertyName("clientID")]
    public string? ClientId { get; init; }

    /// <summary>pID of the uploader.</summary>
    [JsonPropertyName("dstPID")]
    public string? DstPid { get; init; }

    [JsonPropertyName("pieceStatus")]
    public PieceResult? PieceStatus { get; init; }
}

/// <summary>Body of <c>POST /api/v1/tasks/{id}/pieces/{pieceRange}/error</c>.</summary>
public sealed record PieceErrorRequest
{
    [JsonPropertyName("taskId")]
    public string? TaskId { get; init; }

    [JsonPropertyName("srcCid")]
    public string? SrcCid { get; init; }

    [JsonPropertyName("dstPid")]
    public string? DstPid { get; init; }

    [JsonPropertyName("dstIP")]
    public string? DstIp { get; init; }

    [JsonPropertyName("range")]
    public string? Range { get; init; }

    [JsonPropertyName("realMd5")]
    public string? RealMd5 { get; init; }

    [JsonPropertyName("expectedMd5")]
    public string? ExpectedMd5 { get; init; }

    [JsonPropertyName("errorType")]
    public PieceErrorType? ErrorType { get; init; }
}
