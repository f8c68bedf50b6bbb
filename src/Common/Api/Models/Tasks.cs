using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>Body of <c>POST /api/v1/tasks</c>: registers client <c>cID</c> of peer <c>peerID</c> for a download.</summary>
public sealed record TaskCreateRequest
{
    [JsonPropertyName("cID")]
    public string? Cid { get; init; }

    [JsonPropertyName("rawURL")]
    public string? RawUrl { get; init; }

    [JsonPropertyName("taskURL")]
    public string? TaskUrl { get; init; }

    [JsonPropertyName("md5")]
    public string? Md5 { get; init; }

    [JsonPropertyName("identifier")]
    public string? Identifier { get; init; }

    /// <summary>Uploader path, <c>/peer/file/&lt;taskFileName&gt;</c>.</summary>
    [JsonPropertyName("path")]
    public string? Path { get; init; }

    [JsonPropertyName("headers")]
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    [JsonPropertyName("dfdaemon")]
    public bool? Dfdaemon { get; init; }

    [JsonPropertyName("callSystem")]
    public string? CallSystem { get; init; }

    /// <summary>Query keys removed from rawURL to build taskURL. Not omitempty: written as <c>null</c> when absent.</summary>
    [JsonPropertyName("filter")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public IReadOnlyList<string>? Filter { get; init; }

    [JsonPropertyName("taskId")]
    public string? TaskId { get; init; }

    [JsonPropertyName("fileLength")]
    public long? FileLength { get; init; }

    [JsonPropertyName("peerID")]
    public string? PeerId { get; init; }

    [JsonPropertyName("supernodeIP")]
    public string? SupernodeIp { get; init; }

    /// <summary><c>p2p</c>, <c>cdn</c> or <c>source</c>.</summary>
    [JsonPropertyName("peerPattern")]
    public string? PeerPattern { get; init; }
}

/// <summary>Reply of <c>POST /api/v1/tasks</c> (201).</summary>
public sealed record TaskCreateResponse
{
    [JsonPropertyName("ID")]
    public string? Id { get; init; }

    /// <summary>Source length, -1 when unknown.</summary>
    [JsonPropertyName("fileLength")]
    public long? FileLength { get; init; }

    [JsonPropertyName("pieceSize")]
    public int? PieceSize { get; init; }

    [JsonPropertyName("cdnSource")]
    public CdnSource? CdnSource { get; init; }
}

/// <summary>A task, as returned by <c>GET /api/v1/tasks/{id}</c>.</summary>
public sealed record TaskInfo
{
    [JsonPropertyName("ID")]
    public string? Id { get; init; }

    [JsonPropertyName("cdnStatus")]
    public CdnStatus? CdnStatus { get; init; }

    /// <summary>Wrapped CDN length (source + 5 per piece).</summary>
    [JsonPropertyName("fileLength")]
    public long? FileLength { get; init; }

    /// <summary>Source length, -1 when unknown.</summary>
    [JsonPropertyName("httpFileLength")]
    public long? HttpFileLength { get; init; }

    [JsonPropertyName("pieceSize")]
    public int? PieceSize { get; init; }

    [JsonPropertyName("pieceTotal")]
    public int? PieceTotal { get; init; }

    [JsonPropertyName("rawURL")]
    public string? RawUrl { get; init; }

    [JsonPropertyName("taskURL")]
    public string? TaskUrl { get; init; }

    [JsonPropertyName("md5")]
    public string? Md5 { get; init; }

    [JsonPropertyName("realMd5")]
    public string? RealMd5 { get; init; }

    [JsonPropertyName("identifier")]
    public string? Identifier { get; init; }

    [JsonPropertyName("headers")]
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    [JsonPropertyName("asSeed")]
    public bool? AsSeed { get; init; }
}

/// <summary>Body of <c>PUT /api/v1/tasks/{id}</c>.</summary>
public sealed record TaskUpdateRequest
{
    [JsonPropertyName("peerID")]
    public string? PeerId { get; init; }
}

/// <summary>One dfget download of a task (key <c>cID@taskId</c>).</summary>
public sealed record DfGetTask
{
    [JsonPropertyName("taskId")]
    public string? TaskId { get; init; }

    [JsonPropertyName("pieceSize")]
    public int? PieceSize { get; init; }

    [JsonPropertyName("cID")]
    public string? Cid { get; init; }

    [JsonPropertyName("path")]
    public string? Path { get; init; }

    [JsonPropertyName("status")]
    public DfGetTaskStatus? Status { get; init; }

    [JsonPropertyName("peerID")]
    public string? PeerId { get; init; }

    [JsonPropertyName("supernodeIP")]
    public string? SupernodeIp { get; init; }

    [JsonPropertyName("dfdaemon")]
    public bool? Dfdaemon { get; init; }

    [JsonPropertyName("callSystem")]
    public string? CallSystem { get; init; }
}
