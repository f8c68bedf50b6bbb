using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>Reply of <c>GET /</c> and <c>GET /api/v1/</c>: the routes of one category.</summary>
public sealed record RouteListing
{
    [JsonPropertyName("api")]
    public IReadOnlyList<RouteInfo>? Api { get; init; }

    /// <summary><c>legacy api</c> or <c>v1 api</c>.</summary>
    [JsonPropertyName("category")]
    public string? Category { get; init; }

    /// <summary><c>""</c> or <c>/api/v1</c>; always written.</summary>
    [JsonPropertyName("prefix")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Prefix { get; init; }
}

/// <summary>One route of a <see cref="RouteListing"/>.</summary>
public sealed record RouteInfo
{
    [JsonPropertyName("method")]
    public string? Method { get; init; }

    [JsonPropertyName("path")]
    public string? Path { get; init; }
}
