using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Dragonfly.Common.Api.Models;

/// <summary>
/// The legacy envelope <c>{"code","msg","data"}</c>. <c>code</c> is always written, <c>msg</c> and <c>data</c> are
/// omitted when empty (so <c>/peer/piece/suc</c> answers <c>{"code":611}</c>). <c>data</c> depends on the route and code:
/// <see cref="RegisterResult"/>, an array of <see cref="PullPieceTaskItem"/>, <see cref="PeerFinishData"/> or nothing.
/// Build replies with <see cref="Legacy.LegacyResults"/>; read <c>data</c> with <see cref="GetData{T}"/>.
/// </summary>
public sealed record ResultInfo
{
    [JsonPropertyName("code")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int Code { get; init; }

    [JsonPropertyName("msg")]
    public string? Msg { get; init; }

    [JsonPropertyName("data")]
    public JsonElement? Data { get; init; }

    /// <summary>Creates an envelope whose <c>data</c> is <paramref name="data"/> serialized with <paramref name="typeInfo"/>.</summary>
    public static ResultInfo Create<T>(int code, string? msg, T? data, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return new ResultInfo
        {
            Code = code,
            Msg = msg,
            Data = data is null ? null : JsonSerializer.SerializeToElement(data, typeInfo),
        };
    }

    /// <summary>Deserializes <c>data</c> as <typeparamref name="T"/>; default when absent or JSON null.</summary>
    public T? GetData<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return Data is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } data
            ? data.Deserialize(typeInfo)
            : default;
    }

    /// <summary>Converts a typed envelope to the untyped one (the shape the generated client returns).</summary>
    public static ResultInfo From<T>(ResultInfo<T> typed, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typed);
        return Create(typed.Code, typed.Msg, typed.Data, typeInfo);
    }
}

/// <summary>
/// A typed legacy envelope, for writing a reply without going through <see cref="JsonElement"/>. Same wire shape as
/// <see cref="ResultInfo"/>. The closed types used on the wire are registered in <see cref="DragonflyJsonContext"/>.
/// </summary>
public sealed record ResultInfo<T>
{
    [JsonPropertyName("code")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int Code { get; init; }

    [JsonPropertyName("msg")]
    public string? Msg { get; init; }

    [JsonPropertyName("data")]
    public T? Data { get; init; }
}
