using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>Body of <c>POST /api/v1/peers</c>.</summary>
public sealed record PeerCreateRequest
{
    /// <summary>IPv4 address of the peer.</summary>
    [JsonPropertyName("IP")]
    public string? Ip { get; init; }

    [JsonPropertyName("hostName")]
    public string? HostName { get; init; }

    /// <summary>Uploader port, 15000..65000.</summary>
    [JsonPropertyName("port")]
    public int? Port { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }
}

/// <summary>Reply of <c>POST /api/v1/peers</c> (201).</summary>
public sealed record PeerCreateResponse
{
    /// <summary>Peer ID, <c>&lt;hostname&gt;-&lt;ip&gt;-&lt;unix nanos&gt;</c>.</summary>
    [JsonPropertyName("ID")]
    public string? Id { get; init; }
}

/// <summary>A peer as listed by <c>GET /api/v1/peers</c>.</summary>
public sealed record PeerInfo
{
    [JsonPropertyName("ID")]
    public string? Id { get; init; }

    [JsonPropertyName("IP")]
    public string? Ip { get; init; }

    [JsonPropertyName("hostName")]
    public string? HostName { get; init; }

    [JsonPropertyName("port")]
    public int? Port { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }

    /// <summary>When the peer joined; RFC 3339 UTC with milliseconds.</summary>
    [JsonPropertyName("created")]
    [JsonConverter(typeof(Rfc3339MillisConverter))]
    public DateTimeOffset? Created { get; init; }
}
