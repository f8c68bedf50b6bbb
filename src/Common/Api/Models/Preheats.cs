using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>Body of <c>POST /api/v1/preheats</c>; <c>type</c> and <c>url</c> are required.</summary>
public sealed record PreheatCreateRequest
{
    [JsonPropertyName("type")]
    public PreheatType? Type { get; init; }

    [JsonPropertyName("url")]
    public string? Url { get; init; }

    /// <summary><c>&amp;</c>-separated query keys to drop from url.</summary>
    [JsonPropertyName("filter")]
    public string? Filter { get; init; }

    [JsonPropertyName("identifier")]
    public string? Identifier { get; init; }

    [JsonPropertyName("headers")]
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}

/// <summary>Reply of <c>POST /api/v1/preheats</c> (201).</summary>
public sealed record PreheatCreateResponse
{
    [JsonPropertyName("ID")]
    public string? Id { get; init; }
}

/// <summary>Reply of <c>GET /api/v1/preheats/{id}</c>.</summary>
public sealed record PreheatInfo
{
    [JsonPropertyName("ID")]
    public string? Id { get; init; }

    [JsonPropertyName("status")]
    public PreheatStatus? Status { get; init; }

    [JsonPropertyName("startTime")]
    [JsonConverter(typeof(Rfc3339MillisConverter))]
    public DateTimeOffset? StartTime { get; init; }

    [JsonPropertyName("finishTime")]
    [JsonConverter(typeof(Rfc3339MillisConverter))]
    public DateTimeOffset? FinishTime { get; init; }

    [JsonPropertyName("errorMsg")]
    public string? ErrorMsg { get; init; }
}

/// <summary>A raw preheat record as listed by <c>GET /api/v1/preheats</c>, with the original's Go field names.</summary>
public sealed record PreheatTask
{
    [JsonPropertyName("ID")]
    public string? Id { get; init; }

    [JsonPropertyName("URL")]
    public string? Url { get; init; }

    [JsonPropertyName("Type")]
    public PreheatType? Type { get; init; }

    [JsonPropertyName("Filter")]
    public string? Filter { get; init; }

    [JsonPropertyName("Identifier")]
    public string? Identifier { get; init; }

    [JsonPropertyName("Headers")]
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    [JsonPropertyName("ParentID")]
    public string? ParentId { get; init; }

    [JsonPropertyName("Children")]
    public IReadOnlyList<string>? Children { get; init; }

    [JsonPropertyName("Status")]
    public PreheatStatus? Status { get; init; }

    /// <summary>Unix milliseconds.</summary>
    [JsonPropertyName("StartTime")]
    public long? StartTime { get; init; }

    /// <summary>Unix milliseconds.</summary>
    [JsonPropertyName("FinishTime")]
    public long? FinishTime { get; init; }

    [JsonPropertyName("ErrorMsg")]
    public string? ErrorMsg { get; init; }
}
