using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

// Enumerations carried as strings on the wire. The member names in [JsonStringEnumMemberName] are the
// exact wire values of apis/swagger.yml (definitions of type string with an enum).

/// <summary>Status of the CDN (supernode) copy of a task.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CdnStatus>))]
public enum CdnStatus
{
    [JsonStringEnumMemberName("WAITING")] Waiting,
    [JsonStringEnumMemberName("RUNNING")] Running,
    [JsonStringEnumMemberName("FAILED")] Failed,
    [JsonStringEnumMemberName("SUCCESS")] Success,
    [JsonStringEnumMemberName("SOURCE_ERROR")] SourceError,
}

/// <summary>Status of one dfget task (<c>cID@taskId</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DfGetTaskStatus>))]
public enum DfGetTaskStatus
{
    [JsonStringEnumMemberName("WAITING")] Waiting,
    [JsonStringEnumMemberName("RUNNING")] Running,
    [JsonStringEnumMemberName("FAILED")] Failed,
    [JsonStringEnumMemberName("SUCCESS")] Success,
}

/// <summary>Status a pulling client reports (legacy 700/701/702).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PiecePullStatus>))]
public enum PiecePullStatus
{
    [JsonStringEnumMemberName("STARTED")] Started,
    [JsonStringEnumMemberName("RUNNING")] Running,
    [JsonStringEnumMemberName("FINISHED")] Finished,
}

/// <summary>Result of one piece download (legacy 500/501/502/503).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PieceResult>))]
public enum PieceResult
{
    [JsonStringEnumMemberName("FAILED")] Failed,
    [JsonStringEnumMemberName("SUCCESS")] Success,
    [JsonStringEnumMemberName("INVALID")] Invalid,
    [JsonStringEnumMemberName("SEMISUC")] SemiSuccess,
}

/// <summary>Outcome of a v1 pull (<c>GET /api/v1/tasks/{id}/pieces</c>); legacy 601/602/600.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PiecePullState>))]
public enum PiecePullState
{
    [JsonStringEnumMemberName("continue")] Continue,
    [JsonStringEnumMemberName("wait")] Wait,
    [JsonStringEnumMemberName("finished")] Finished,
}

/// <summary>Where pieces are served from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CdnSource>))]
public enum CdnSource
{
    [JsonStringEnumMemberName("supernode")] Supernode,
    [JsonStringEnumMemberName("source")] Source,
}

/// <summary>Status of a preheat.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PreheatStatus>))]
public enum PreheatStatus
{
    [JsonStringEnumMemberName("WAITING")] Waiting,
    [JsonStringEnumMemberName("RUNNING")] Running,
    [JsonStringEnumMemberName("FAILED")] Failed,
    [JsonStringEnumMemberName("SUCCESS")] Success,
}

/// <summary>Kind of preheat.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PreheatType>))]
public enum PreheatType
{
    [JsonStringEnumMemberName("image")] Image,
    [JsonStringEnumMemberName("file")] File,
}

/// <summary>Kind of bad piece reported by a downloader.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PieceErrorType>))]
public enum PieceErrorType
{
    [JsonStringEnumMemberName("FILE_NOT_EXIST")] FileNotExist,
    [JsonStringEnumMemberName("FILE_MD5_NOT_MATCH")] FileMd5NotMatch,
}
