using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>Reply of <c>GET /version</c>; Go-style capitalised names.</summary>
public sealed record DragonflyVersion
{
    [JsonPropertyName("Version")]
    public string? Version { get; init; }

    [JsonPropertyName("Revision")]
    public string? Revision { get; init; }

    [JsonPropertyName("BuildDate")]
    public string? BuildDate { get; init; }

    /// <summary>The runtime version (the original reported the Go version here).</summary>
    [JsonPropertyName("GoVersion")]
    public string? GoVersion { get; init; }

    [JsonPropertyName("OS")]
    public string? OS { get; init; }

    [JsonPropertyName("Arch")]
    public string? Arch { get; init; }
}
