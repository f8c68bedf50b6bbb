namespace Dragonfly.Common.Api.Legacy;

/// <summary>The numeric "business" codes of the legacy protocol (<c>code</c> of <c>ResultInfo</c>).</summary>
public enum LegacyCode
{
    /// <summary>Client side only: the HTTP call itself failed.</summary>
    HttpError = -100,
    Success = 200,
    SystemError = 500,
    ParamError = 501,
    TargetNotFound = 502,
    PeerFinish = 600,
    PeerContinue = 601,
    PeerWait = 602,
    PeerLimited = 603,
    SuperFail = 604,
    UnknownError = 605,
    TaskConflict = 606,
    UrlNotReachable = 607,
    NeedAuth = 608,
    WaitAuth = 609,
    SourceError = 610,
    GetPieceReport = 611,
    GetPeerDown = 612,
}

/// <summary>Piece result a legacy client reports in <c>GET /peer/task?result=</c>.</summary>
public enum ClientPieceResult
{
    Fail = 500,
    Success = 501,
    Invalid = 502,
    SemiSuccess = 503,
}

/// <summary>Task status a legacy client reports in <c>GET /peer/task?status=</c>.</summary>
public enum ClientTaskStatus
{
    Start = 700,
    Running = 701,
    Finish = 702,
}
