using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;

namespace Dragonfly.Supernode.Managers.Registration;

/// <summary>
/// One pull (legacy <c>GET /peer/task</c> or v1 <c>GET /tasks/{id}/pieces</c>), as raw wire values; the service validates.
/// </summary>
/// <param name="Status"><c>700</c>/<c>701</c>/<c>702</c> or <c>STARTED</c>/<c>RUNNING</c>/<c>FINISHED</c>.</param>
/// <param name="Result"><c>500</c>/<c>501</c>/<c>502</c>/<c>503</c> or <c>FAILED</c>/<c>SUCCESS</c>/<c>INVALID</c>/<c>SEMISUC</c>.</param>
/// <param name="Range">The last piece's range <c>s-e</c> (required for a RUNNING report with a real result).</param>
/// <param name="DstCid">The last piece's uploader cid (may be empty or stale).</param>
/// <param name="MaxWait">
/// v1 only: when the answer would be "wait", hold it up to this long and answer as soon as the swarm changes (a CDN piece, a
/// piece reported, a running piece released), so the client does not poll. Zero (legacy, or not asked): answer at once.
/// </param>
public sealed record PullRequest(string? TaskId, string? SrcCid, string? Status, string? Result, string? Range, string? DstCid, TimeSpan MaxWait = default);

/// <summary>One piece to download (the wire PullPieceTaskItem of §1.4; <c>downLink</c> is always 0).</summary>
/// <param name="PieceMd5">Wire form <c>md5:len</c>, empty when the CDN has no record (the original sends empty then too).</param>
/// <param name="Cid">The uploader's cid.</param>
public sealed record PieceTaskItem(
    PieceRange Range,
    int PieceNum,
    int PieceSize,
    string PieceMd5,
    Cid Cid,
    string PeerIp,
    int PeerPort,
    string Path)
{
    public int DownLink => 0;
}

/// <summary>Why a pull failed; <see cref="PullOutcome.Failed.LegacyCode"/> gives the legacy code.</summary>
public enum PullFailure
{
    /// <summary>Bad status/result/range/ids: legacy 501.</summary>
    ParamError,

    /// <summary>Unknown task or cid@taskId: legacy 502.</summary>
    TargetNotFound,

    /// <summary>The CDN failed for this task: legacy 500 (the client migrates or goes back to source).</summary>
    CdnFailed,

    /// <summary>The source is not reachable: legacy 607.</summary>
    UrlNotReachable,

    /// <summary>Anything else: legacy 500.</summary>
    SystemError,
}

/// <summary>The outcome of a pull (STYLE §3: outcomes are values, not exceptions).</summary>
public abstract record PullOutcome
{
    private PullOutcome()
    {
    }

    /// <summary>The legacy <c>code</c> (601/602/600/501/502/607/500).</summary>
    public abstract int LegacyCode { get; }

    /// <summary>Download these pieces (601). An empty list means "you already run your limit, carry on".</summary>
    public sealed record Continue(IReadOnlyList<PieceTaskItem> Pieces) : PullOutcome
    {
        public override int LegacyCode => 601;
    }

    /// <summary>Nothing to hand out now: ask again later (602).</summary>
    /// <param name="Held">How long the answer was held for the swarm to change (<see cref="PullRequest.MaxWait"/>); null when not held.</param>
    public sealed record Wait(string Message, TimeSpan? Held = null) : PullOutcome
    {
        public override int LegacyCode => 602;
    }

    /// <summary>The client has every piece (600): <paramref name="Md5"/> = source md5, <paramref name="FileLength"/> = wrapped length.</summary>
    public sealed record Finished(string Md5, long FileLength) : PullOutcome
    {
        public override int LegacyCode => 600;
    }

    /// <summary>The pull failed.</summary>
    public sealed record Failed(PullFailure Reason, string Message) : PullOutcome
    {
        public override int LegacyCode => Reason switch
        {
            PullFailure.ParamError => 501,
            PullFailure.TargetNotFound => 502,
            PullFailure.UrlNotReachable => 607,
            _ => 500,
        };
    }
}

/// <summary>The outcome of <see cref="IPiecePullService.ReportPieceSuccess"/> / <see cref="IPiecePullService.ReportPiece"/>.</summary>
public enum PieceReportOutcome
{
    /// <summary>Recorded (legacy 611).</summary>
    Recorded,

    /// <summary>Bad task id, cid or range (legacy: HTTP 500; v1: 400).</summary>
    InvalidInput,

    /// <summary>Unknown task, client or uploader (legacy: HTTP 500; v1: 404).</summary>
    NotFound,
}

/// <summary>A client's report that a piece from the supernode was bad (§1.4 <c>/peer/piece/error</c>, §2.9).</summary>
/// <param name="ErrorType"><c>FILE_NOT_EXIST</c> or <c>FILE_MD5_NOT_MATCH</c>.</param>
public sealed record PieceErrorReport(
    string? TaskId,
    string? Range,
    string? SrcCid,
    string? DstCid,
    string? DstIp,
    string? RealMd5,
    string? ExpectedMd5,
    string? ErrorType);
