using Dragonfly.Supernode.Managers.Progress;

namespace Dragonfly.Supernode.Managers.Registration;

/// <summary>
/// The per-client piece protocol of PROTOCOL §1.4 over the managers: pulls, piece-success reports and service-down.
/// Used by the legacy <c>/peer/*</c> routes and the v1 <c>/tasks/{id}/pieces*</c> routes alike.
/// </summary>
public interface IPiecePullService
{
    /// <summary>
    /// One pull. STARTED (700) marks the dfget-task RUNNING; RUNNING (701) first records the reported piece; FINISHED (702)
    /// only sets SUCCESS (result 501) or FAILED. Then: CDN failed → <see cref="PullOutcome.Failed"/> CdnFailed; the client has
    /// every piece → <see cref="PullOutcome.Finished"/>; else scheduled pieces, or <see cref="PullOutcome.Wait"/>.
    /// Never throws for bad input (ParamError / TargetNotFound outcomes).
    /// </summary>
    ValueTask<PullOutcome> PullAsync(PullRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// <c>/peer/piece/suc</c>: the downloader <paramref name="cid"/> got <paramref name="pieceRange"/> from
    /// <paramref name="dstCid"/> (a peer's cid or the supernode's). Unknown dstCid → NotFound (the original's HTTP 500).
    /// </summary>
    PieceReportOutcome ReportPieceSuccess(string? taskId, string? cid, string? dstCid, string? pieceRange);

    /// <summary>v1 <c>PUT /tasks/{id}/pieces/{range}</c>: a piece result (SUCCESS/SEMISUC/FAILED) for a client.</summary>
    PieceReportOutcome ReportPiece(string? taskId, string? cid, string? dstCid, string? pieceRange, PieceResult result);

    /// <summary>
    /// <c>/peer/service/down</c>: marks the peer owning <c>cid@taskId</c> service-down. Map <see cref="ServiceDownOutcome.MarkedDown"/>
    /// to 612, <see cref="ServiceDownOutcome.AlreadyOffline"/> to HTTP 500 "has been offline" (as the original), and
    /// <see cref="ServiceDownOutcome.Unknown"/> to 612: after task GC removed the dfget-task the peer is gone anyway, so the
    /// report succeeds instead of the original's confusing "data not found" (issue #844).
    /// </summary>
    ServiceDownOutcome ServiceDown(string? taskId, string? cid);
}
