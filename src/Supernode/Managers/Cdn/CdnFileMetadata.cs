using System.Text.Json.Serialization;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>
/// The <c>&lt;taskId&gt;.meta</c> JSON document, with the original's key names. Times are Unix milliseconds;
/// <see cref="FileLength"/> is the wrapped (CDN) length, <see cref="HttpFileLength"/> the source length.
/// </summary>
public sealed record CdnFileMetadata
{
    [JsonPropertyName("taskID")]
    public string TaskId { get; init; } = string.Empty;

    [JsonPropertyName("url")]
    public string Url { get; init; } = string.Empty;

    [JsonPropertyName("pieceSize")]
    public int PieceSize { get; init; }

    [JsonPropertyName("httpFileLen")]
    public long HttpFileLength { get; init; }

    [JsonPropertyName("bizId")]
    public string BizId { get; init; } = string.Empty;

    [JsonPropertyName("accessTime")]
    public long AccessTime { get; init; }

    [JsonPropertyName("interval")]
    public long Interval { get; init; }

    [JsonPropertyName("fileLength")]
    public long FileLength { get; init; }

    [JsonPropertyName("md5")]
    public string Md5 { get; init; } = string.Empty;

    [JsonPropertyName("realMd5")]
    public string RealMd5 { get; init; } = string.Empty;

    [JsonPropertyName("lastModified")]
    public long LastModified { get; init; }

    [JsonPropertyName("eTag")]
    public string ETag { get; init; } = string.Empty;

    [JsonPropertyName("finish")]
    public bool Finish { get; init; }

    [JsonPropertyName("success")]
    public bool Success { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(CdnFileMetadata))]
internal sealed partial class CdnJsonContext : JsonSerializerContext;
