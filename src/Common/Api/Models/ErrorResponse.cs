using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>
/// The error body (<c>{"code","message"}</c>, the original's <c>Error</c> schema) of every non-2xx v1 reply and of
/// legacy handler failures (HTTP 500).
/// </summary>
public sealed record ErrorResponse
{
    /// <summary>HTTP status for v1; 500 for legacy handler failures; may carry a legacy code (606, 607...).</summary>
    [JsonPropertyName("code")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int Code { get; init; }

    [JsonPropertyName("message")]
    public string? Message { get; init; }
}
