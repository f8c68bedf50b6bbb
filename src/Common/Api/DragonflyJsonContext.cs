using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Dragonfly.Common.Api.Models;

namespace Dragonfly.Common.Api;

/// <summary>
/// Source-generated System.Text.Json metadata for every wire DTO of <c>apis/swagger.yml</c>. Names come from the
/// explicit <c>[JsonPropertyName]</c> attributes; reading is case-insensitive (dfget's <c>rawUrl</c> binds to
/// <c>rawURL</c>); null properties are omitted (Go's <c>omitempty</c>), except where a DTO says <c>Never</c>.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ResultInfo))]
[JsonSerializable(typeof(ResultInfo<RegisterResult>))]
[JsonSerializable(typeof(ResultInfo<IReadOnlyList<PullPieceTaskItem>>))]
[JsonSerializable(typeof(ResultInfo<PeerFinishData>))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(DragonflyVersion))]
[JsonSerializable(typeof(RouteListing))]
[JsonSerializable(typeof(RouteInfo))]
[JsonSerializable(typeof(PeerCreateRequest))]
[JsonSerializable(typeof(PeerCreateResponse))]
[JsonSerializable(typeof(PeerInfo))]
[JsonSerializable(typeof(IReadOnlyList<PeerInfo>))]
[JsonSerializable(typeof(ICollection<PeerInfo>))]
[JsonSerializable(typeof(TaskCreateRequest))]
[JsonSerializable(typeof(TaskCreateResponse))]
[JsonSerializable(typeof(TaskInfo))]
[JsonSerializable(typeof(IReadOnlyList<TaskInfo>))]
[JsonSerializable(typeof(ICollection<TaskInfo>))]
[JsonSerializable(typeof(TaskUpdateRequest))]
[JsonSerializable(typeof(SwarmView))]
[JsonSerializable(typeof(SwarmPeer))]
[JsonSerializable(typeof(SwarmRunningPiece))]
[JsonSerializable(typeof(DfGetTask))]
[JsonSerializable(typeof(PieceInfo))]
[JsonSerializable(typeof(PiecePullRequest))]
[JsonSerializable(typeof(PiecePullResponse))]
[JsonSerializable(typeof(PieceUpdateRequest))]
[JsonSerializable(typeof(PieceErrorRequest))]
[JsonSerializable(typeof(PreheatCreateRequest))]
[JsonSerializable(typeof(PreheatCreateResponse))]
[JsonSerializable(typeof(PreheatInfo))]
[JsonSerializable(typeof(PreheatTask))]
[JsonSerializable(typeof(IReadOnlyList<PreheatTask>))]
[JsonSerializable(typeof(ICollection<PreheatTask>))]
[JsonSerializable(typeof(TaskRegisterRequest))]
[JsonSerializable(typeof(RegisterResult))]
[JsonSerializable(typeof(PullPieceTaskItem))]
[JsonSerializable(typeof(IReadOnlyList<PullPieceTaskItem>))]
[JsonSerializable(typeof(PeerFinishData))]
[JsonSerializable(typeof(TaskMetricsRequest))]
[JsonSerializable(typeof(HeartBeatRequest))]
[JsonSerializable(typeof(HeartBeatResponse))]
[JsonSerializable(typeof(NetworkInfoFetchRequest))]
[JsonSerializable(typeof(NetworkInfoFetchResponse))]
[JsonSerializable(typeof(Node))]
[JsonSerializable(typeof(TaskFetchInfo))]
[JsonSerializable(typeof(CdnStatus))]
[JsonSerializable(typeof(DfGetTaskStatus))]
[JsonSerializable(typeof(PiecePullStatus))]
[JsonSerializable(typeof(PieceResult))]
[JsonSerializable(typeof(PiecePullState))]
[JsonSerializable(typeof(CdnSource))]
[JsonSerializable(typeof(PreheatStatus))]
[JsonSerializable(typeof(PreheatType))]
[JsonSerializable(typeof(PieceErrorType))]
[JsonSerializable(typeof(bool))]
public sealed partial class DragonflyJsonContext : JsonSerializerContext;

/// <summary>Entry point to the wire JSON settings. Everything here is immutable.</summary>
public static class DragonflyJson
{
    /// <summary>The source-generated context (its options are read-only).</summary>
    public static DragonflyJsonContext Context => DragonflyJsonContext.Default;

    /// <summary>The read-only options of <see cref="Context"/>.</summary>
    public static JsonSerializerOptions Options => DragonflyJsonContext.Default.Options;

    /// <summary>
    /// Applies the wire settings to a caller-owned options instance (for example ASP.NET Core's
    /// <c>JsonOptions.SerializerOptions</c> or the generated client's settings): case-insensitive names, nulls omitted,
    /// and the source-generated metadata first in the resolver chain (reflection stays as a fallback for other types).
    /// </summary>
    public static JsonSerializerOptions Apply(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNameCaseInsensitive = true;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        if (!options.TypeInfoResolverChain.Contains(DragonflyJsonContext.Default))
        {
            options.TypeInfoResolverChain.Insert(0, DragonflyJsonContext.Default);
        }

        if (options.TypeInfoResolverChain.Count == 1)
        {
            options.TypeInfoResolverChain.Add(new DefaultJsonTypeInfoResolver());
        }

        return options;
    }

    /// <summary>The wire string of an enum value, e.g. <c>PiecePullStatus.Started</c> → <c>STARTED</c>.</summary>
    public static string ToWire<TEnum>(TEnum value)
        where TEnum : struct, Enum
    {
        var typeInfo = (JsonTypeInfo<TEnum>)DragonflyJsonContext.Default.GetTypeInfo(typeof(TEnum))!;
        return JsonSerializer.SerializeToElement(value, typeInfo).GetString()!;
    }

    /// <summary>Parses a wire string of an enum (case-insensitive); false when unknown.</summary>
    public static bool TryParseWire<TEnum>(string? text, out TEnum value)
        where TEnum : struct, Enum
    {
        value = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            if (string.Equals(ToWire(candidate), text, StringComparison.OrdinalIgnoreCase))
            {
                value = candidate;
                return true;
            }
        }

        return false;
    }
}
