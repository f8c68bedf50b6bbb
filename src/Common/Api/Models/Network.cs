using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>Body of <c>POST /peer/heartbeat</c> (stub).</summary>
public sealed record HeartBeatRequest
{
    [JsonPropertyName("IP")]
    public string? Ip { get; init; }

    [JsonPropertyName("port")]
    public int? Port { get; init; }

    [JsonPropertyName("cID")]
    public string? Cid { get; init; }
}

/// <summary>Reply of <c>POST /peer/heartbeat</c> (stub: always <c>{}</c>).</summary>
public sealed record HeartBeatResponse
{
    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("needRegister")]
    public bool? NeedRegister { get; init; }

    [JsonPropertyName("seedTaskIDs")]
    public IReadOnlyList<string>? SeedTaskIds { get; init; }
}

/// <summary>Body of <c>POST /peer/network</c> (stub).</summary>
public sealed record NetworkInfoFetchRequest
{
    [JsonPropertyName("urls")]
    public IReadOnlyList<string>? Urls { get; init; }
}

/// <summary>Reply of <c>POST /peer/network</c> (stub: always <c>{}</c>).</summary>
public sealed record NetworkInfoFetchResponse
{
    [JsonPropertyName("nodes")]
    public IReadOnlyList<Node>? Nodes { get; init; }
}

/// <summary>A peer with the tasks it holds.</summary>
public sealed record Node
{
    [JsonPropertyName("basic")]
    public PeerInfo? Basic { get; init; }

    [JsonPropertyName("extra")]
    public IReadOnlyDictionary<string, string>? Extra { get; init; }

    [JsonPropertyName("load")]
    public int? Load { get; init; }

    [JsonPropertyName("tasks")]
    public IReadOnlyList<TaskFetchInfo>? Tasks { get; init; }
}

/// <summary>A task and the pieces a node holds of it.</summary>
public sealed record TaskFetchInfo
{
    [JsonPropertyName("task")]
    public TaskInfo? Task { get; init; }

    [JsonPropertyName("pieces")]
    public IReadOnlyList<PieceInfo>? Pieces { get; init; }
}
