using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Origin;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>What the CDN needs to fetch and cut one task.</summary>
/// <param name="HttpFileLength">Source length from the registration probe, -1 when unknown.</param>
/// <param name="Md5">The user's expected md5 (empty when none); a mismatch fails the task.</param>
public sealed record CdnTaskSpec(
    TaskId TaskId,
    string TaskUrl,
    OriginRequest Origin,
    int PieceSize,
    long HttpFileLength,
    string? Md5,
    string? Identifier);

/// <summary>The outcome of one CDN run for a task.</summary>
/// <param name="FileLength">Wrapped (CDN file) length on success.</param>
/// <param name="RealMd5">md5 of the source bytes on success.</param>
public sealed record CdnResult(bool Success, long FileLength, long SourceLength, string? RealMd5, bool CacheHit, string? Error = null);

/// <summary>What a piece-error check (§2.9) found for the cached copy of one piece.</summary>
public enum CdnPieceCheck
{
    /// <summary>The piece is on disk and matches its recorded md5 (or the CDN caches nothing: source pattern).</summary>
    Good,

    /// <summary>Nothing to check: no such piece, not written yet, or no md5 recorded for it. Not a reason to collect the task.</summary>
    Unknown,

    /// <summary>The piece has a recorded md5 and the data file is gone or its piece no longer matches: fetch the task again.</summary>
    Bad,
}

/// <summary>
/// Callbacks from the CDN to the managers that track pieces. Each piece is reported as soon as it is on disk,
/// so peers can start before the whole file is cached.
/// </summary>
public interface ICdnObserver
{
    ValueTask OnPieceReadyAsync(TaskId taskId, int pieceNum, PieceMd5 md5, CancellationToken cancellationToken);

    ValueTask OnCompletedAsync(TaskId taskId, CdnResult result, CancellationToken cancellationToken);
}

/// <summary>
/// CDNMgr: fetches a source once, cuts it into wrapped pieces on disk (<c>repo/download/&lt;3&gt;/&lt;taskId&gt;</c>, with
/// <c>.meta</c> and <c>.md5</c>), detects cache hits and freshness, resumes by Range, and serves piece md5s.
/// </summary>
public interface ICDNMgr
{
    /// <summary>Starts (or joins) the CDN run for a task in the background; returns at once.</summary>
    void Trigger(CdnTaskSpec spec);

    /// <summary>The piece md5 string (<c>md5:len</c>) recorded for a piece, if known.</summary>
    bool TryGetPieceMd5(TaskId taskId, int pieceNum, out PieceMd5 md5);

    /// <summary>
    /// Piece error check (§2.9): <see cref="CdnPieceCheck.Bad"/> only when the piece has a recorded md5 and the data file is
    /// missing or its copy of the piece no longer matches; a piece that does not exist or is not written yet is
    /// <see cref="CdnPieceCheck.Unknown"/>.
    /// </summary>
    Task<CdnPieceCheck> VerifyPieceAsync(TaskId taskId, int pieceNum, CancellationToken cancellationToken);

    /// <summary>Forgets the in-memory state of a task; <paramref name="deleteFiles"/> also removes its cache files.</summary>
    Task DeleteAsync(TaskId taskId, bool deleteFiles, CancellationToken cancellationToken);

    /// <summary>The path pieces are served from for this task: <c>/download/&lt;3&gt;/&lt;taskId&gt;</c> (local) or the raw URL (source pattern).</summary>
    string DownloadPath(TaskId taskId, string rawUrl);
}
