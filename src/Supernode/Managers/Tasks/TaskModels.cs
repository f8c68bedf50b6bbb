using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.Tasks;

/// <summary>The CDN state of a task (wire names <c>WAITING|RUNNING|FAILED|SUCCESS|SOURCE_ERROR</c>).</summary>
public enum CdnStatus
{
    Waiting,
    Running,
    Failed,
    Success,
    SourceError,
}

public static class CdnStatusText
{
    /// <summary>The wire name of a status (<c>SOURCE_ERROR</c> etc.).</summary>
    public static string ToWire(this CdnStatus status) => status switch
    {
        CdnStatus.Waiting => "WAITING",
        CdnStatus.Running => "RUNNING",
        CdnStatus.Failed => "FAILED",
        CdnStatus.Success => "SUCCESS",
        CdnStatus.SourceError => "SOURCE_ERROR",
        _ => "WAITING",
    };
}

/// <summary>What a registration asks for: the source and how it is identified. Built by the registration service.</summary>
/// <param name="RawUrl">The source URL as the client gave it (http/https).</param>
/// <param name="TaskUrl">The URL with filtered query keys removed (the identity URL).</param>
/// <param name="Md5">The user's expected md5, or null.</param>
/// <param name="Identifier">Extra identity key used when no md5 is given, or null.</param>
/// <param name="Headers">Request headers passed to the source (already parsed, see <see cref="TaskHeaders"/>).</param>
public sealed record TaskSpec(
    string RawUrl,
    string TaskUrl,
    string? Md5,
    string? Identifier,
    IReadOnlyDictionary<string, string> Headers,
    bool Insecure = false,
    IReadOnlyList<byte[]>? RootCAs = null);

/// <summary>A point-in-time copy of a task (the fields of the wire TaskInfo, §1.6).</summary>
/// <param name="FileLength">Wrapped CDN length once the CDN succeeded (source + 5·pieces), else -1.</param>
/// <param name="HttpFileLength">Source length from the probe (or the CDN), -1 when unknown.</param>
/// <param name="PieceTotal">Register-time estimate (ceil(len/pieceSize), -1 unknown) until the CDN succeeds, then the real count.</param>
/// <param name="RealMd5">md5 of the source bytes once the CDN succeeded.</param>
/// <param name="LastAccess">Last registration or pull (drives task GC).</param>
public sealed record TaskSnapshot(
    TaskId Id,
    CdnStatus CdnStatus,
    long FileLength,
    long HttpFileLength,
    int PieceSize,
    int PieceTotal,
    string RawUrl,
    string TaskUrl,
    string? Md5,
    string? RealMd5,
    string? Identifier,
    IReadOnlyDictionary<string, string> Headers,
    DateTimeOffset Created,
    DateTimeOffset LastAccess);

/// <summary>The result of <see cref="ITaskMgr.GetOrCreateAsync"/>.</summary>
/// <param name="Created">True when this call created the task (false: an existing task was reused).</param>
/// <param name="ShouldTriggerCdn">
/// True when the caller must start the CDN: the task was WAITING, FAILED or SOURCE_ERROR and this call moved it to RUNNING.
/// Exactly one concurrent registration sees true.
/// </param>
public sealed record TaskRegistrationResult(TaskSnapshot Task, bool Created, bool ShouldTriggerCdn);
