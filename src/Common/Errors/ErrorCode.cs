namespace Dragonfly.Common.Errors;

/// <summary>The original's internal error codes, embedded in messages as <c>{"Code":N,"Msg":"..."}</c>.</summary>
public enum ErrorCode
{
    DataNotFound = 0,
    EmptyValue = 1,
    InvalidValue = 2,
    NotInitialized = 3,
    ConvertFailed = 4,
    RangeNotSatisfiable = 5,
    SystemError = 6,
    CdnFail = 7,
    CdnWait = 8,
    PeerWait = 9,
    UnknownError = 10,
    PeerContinue = 11,
    UrlNotReachable = 12,
    TaskIdConflict = 13,
    AuthenticationRequired = 14,
}

public static class ErrorCodeText
{
    /// <summary>The original's default message for each code.</summary>
    public static string DefaultMessage(this ErrorCode code) => code switch
    {
        ErrorCode.DataNotFound => "data not found",
        ErrorCode.EmptyValue => "empty value",
        ErrorCode.InvalidValue => "invalid value",
        ErrorCode.NotInitialized => "not initialized",
        ErrorCode.ConvertFailed => "convert failed",
        ErrorCode.RangeNotSatisfiable => "range not satisfiable",
        ErrorCode.SystemError => "system error",
        ErrorCode.CdnFail => "cdn status is fail",
        ErrorCode.CdnWait => "cdn status is wait",
        ErrorCode.PeerWait => "peer should wait",
        ErrorCode.UnknownError => "unknown error",
        ErrorCode.PeerContinue => "peer continue",
        ErrorCode.UrlNotReachable => "url not reachable",
        ErrorCode.TaskIdConflict => "taskId conflict",
        ErrorCode.AuthenticationRequired => "authentication required",
        _ => "unknown error",
    };
}
