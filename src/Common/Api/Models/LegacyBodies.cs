using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>
/// Body of the legacy <c>POST /peer/registry</c> (JSON or form). Written with the schema names (<c>rawURL</c>, <c>cID</c>,
/// <c>IP</c>); read case-insensitively, so the original dfget's <c>rawUrl</c>, <c>cid</c>, <c>ip</c> bind.
/// </summary>
public sealed record TaskRegisterRequest
{
    [JsonPropertyName("superNodeIp")]
    public string? SuperNodeIp { get; init; }

    [JsonPropertyName("rawURL")]
    public string? RawUrl { get; init; }

    [JsonPropertyName("taskURL")]
    public string? TaskUrl { get; init; }

    [JsonPropertyName("cID")]
    public string? Cid { get; init; }

    [JsonPropertyName("IP")]
    public string? Ip { get; init; }

    [JsonPropertyName("hostName")]
    public string? HostName { get; init; }

    /// <summary>Uploader port, 15000..65000; 0 for a cdn-pattern peer.</summary>
    [JsonPropertyName("port")]
    public int? Port { get; init; }

    [JsonPropertyName("path")]
    public string? Path { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("md5")]
    public string? Md5 { get; init; }

    [JsonPropertyName("identifier")]
    public string? Identifier { get; init; }

    [JsonPropertyName("callSystem")]
    public string? CallSystem { get; init; }

    /// <summary><c>"Key: value"</c> strings.</summary>
    [JsonPropertyName("headers")]
    public IReadOnlyList<string>? Headers { get; init; }

    [JsonPropertyName("dfdaemon")]
    public bool? Dfdaemon { get; init; }

    [JsonPropertyName("insecure")]
    public bool? Insecure { get; init; }

    /// <summary>PEM CA certificates (base64 strings in JSON) for the supernode's TLS client to the source.</summary>
    [JsonPropertyName("rootCAs")]
    public IReadOnlyList<byte[]>? RootCAs { get; init; }

    [JsonPropertyName("taskId")]
    public string? TaskId { get; init; }

    [JsonPropertyName("fileLength")]
    public long? FileLength { get; init; }

    [JsonPropertyName("asSeed")]
    public bool? AsSeed { get; init; }

    /// <summary><c>p2p</c>, <c>cdn</c> or <c>source</c>.</summary>
    [JsonPropertyName("pattern")]
    public string? Pattern { get; init; }
}

/// <summary><c>data</c> of a successful <c>POST /peer/registry</c>. All fields are always written.</summary>
public sealed record RegisterResult
{
    [JsonPropertyName("taskId")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? TaskId { get; init; }

    /// <summary>Source length, -1 when unknown.</summary>
    [JsonPropertyName("fileLength")]
    public long FileLength { get; init; }

    [JsonPropertyName("pieceSize")]
    public int PieceSize { get; init; }

    [JsonPropertyName("cdnSource")]
    public CdnSource CdnSource { get; init; }

    [JsonPropertyName("asSeed")]
    public bool AsSeed { get; init; }

    [JsonPropertyName("seedTaskID")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string SeedTaskId { get; init; } = string.Empty;
}

/// <summary>One element of the <c>data</c> array of a 601 <c>GET /peer/task</c> reply. All fields are always written.</summary>
public sealed record PullPieceTaskItem
{
    [JsonPropertyName("range")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Range { get; init; }

    [JsonPropertyName("pieceNum")]
    public int PieceNum { get; init; }

    [JsonPropertyName("pieceSize")]
    public int PieceSize { get; init; }

    /// <summary><c>&lt;md5 hex&gt;:&lt;wrapped length&gt;</c>.</summary>
    [JsonPropertyName("pieceMd5")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? PieceMd5 { get; init; }

    /// <summary>cID of the owner (uploader).</summary>
    [JsonPropertyName("cid")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Cid { get; init; }

    [JsonPropertyName("peerIp")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? PeerIp { get; init; }

    [JsonPropertyName("peerPort")]
    public int PeerPort { get; init; }

    [JsonPropertyName("path")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Path { get; init; }

    [JsonPropertyName("downLink")]
    public int DownLink { get; init; }
}

/// <summary><c>data</c> of a 600 <c>GET /peer/task</c> reply. All fields are always written.</summary>
public sealed record PeerFinishData
{
    /// <summary>md5 of the source file.</summary>
    [JsonPropertyName("md5")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Md5 { get; init; }

    /// <summary>Wrapped CDN length.</summary>
    [JsonPropertyName("fileLength")]
    public long FileLength { get; init; }
}

/// <summary>Body of <c>POST /task/metrics</c>: the outcome of one dfget download.</summary>
public sealed record TaskMetricsRequest
{
    [JsonPropertyName("IP")]
    public string? Ip { get; init; }

    [JsonPropertyName("port")]
    public int? Port { get; init; }

    [JsonPropertyName("taskId")]
    public string? TaskId { get; init; }

    [JsonPropertyName("cID")]
    public string? Cid { get; init; }

    [JsonPropertyName("callSystem")]
    public string? CallSystem { get; init; }

    /// <summary>Seconds.</summary>
    [JsonPropertyName("duration")]
    public double? Duration { get; init; }

    [JsonPropertyName("success")]
    public bool? Success { get; init; }

    [JsonPropertyName("backsourceReason")]
    public string? BacksourceReason { get; init; }

    [JsonPropertyName("fileLength")]
    public long? FileLength { get; init; }
}
