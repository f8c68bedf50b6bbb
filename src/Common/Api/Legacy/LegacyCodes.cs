using Dragonfly.Common.Api.Models;

namespace Dragonfly.Common.Api.Legacy;

/// <summary>Default messages of <see cref="LegacyCode"/> and conversions between legacy numbers and v1 enums.</summary>
public static class LegacyCodes
{
    /// <summary>The original's default message for a code; null when it had none (610, 611, 612, -100).</summary>
    public static string? DefaultMessage(LegacyCode code) => code switch
    {
        LegacyCode.Success => "success",
        LegacyCode.SystemError => "system error",
        LegacyCode.ParamError => "param is illegal",
        LegacyCode.TargetNotFound => "target not found",
        LegacyCode.PeerFinish => "peer task end",
        LegacyCode.PeerContinue => "peer task go on",
        LegacyCode.PeerWait => "peer task wait",
        LegacyCode.PeerLimited => "peer down limit",
        LegacyCode.SuperFail => "super node sync source fail",
        LegacyCode.UnknownError => "unknown error",
        LegacyCode.TaskConflict => "task conflict",
        LegacyCode.UrlNotReachable => "url is not reachable",
        LegacyCode.NeedAuth => "need auth",
        LegacyCode.WaitAuth => "wait auth",
        _ => null,
    };

    /// <summary>True for a defined <see cref="LegacyCode"/> number.</summary>
    public static bool IsDefined(int code) => Enum.IsDefined((LegacyCode)code);

    public static PieceResult ToPieceResult(this ClientPieceResult result) => result switch
    {
        ClientPieceResult.Fail => PieceResult.Failed,
        ClientPieceResult.Success => PieceResult.Success,
        ClientPieceResult.Invalid => PieceResult.Invalid,
        ClientPieceResult.SemiSuccess => PieceResult.SemiSuccess,
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, "unknown piece result"),
    };

    public static ClientPieceResult ToClientPieceResult(this PieceResult result) => result switch
    {
        PieceResult.Failed => ClientPieceResult.Fail,
        PieceResult.Success => ClientPieceResult.Success,
        PieceResult.Invalid => ClientPieceResult.Invalid,
        PieceResult.SemiSuccess => ClientPieceResult.SemiSuccess,
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, "unknown piece result"),
    };

    public static PiecePullStatus ToPiecePullStatus(this ClientTaskStatus status) => status switch
    {
        ClientTaskStatus.Start => PiecePullStatus.Started,
        ClientTaskStatus.Running => PiecePullStatus.Running,
        ClientTaskStatus.Finish => PiecePullStatus.Finished,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown task status"),
    };

    public static ClientTaskStatus ToClientTaskStatus(this PiecePullStatus status) => status switch
    {
        PiecePullStatus.Started => ClientTaskStatus.Start,
        PiecePullStatus.Running => ClientTaskStatus.Running,
        PiecePullStatus.Finished => ClientTaskStatus.Finish,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown task status"),
    };

    /// <summary>Parses a legacy <c>result=</c> query value (500..503); false otherwise.</summary>
    public static bool TryParsePieceResult(string? text, out ClientPieceResult result)
    {
        result = default;
        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n)
            || !Enum.IsDefined((ClientPieceResult)n))
        {
            return false;
        }

        result = (ClientPieceResult)n;
        return true;
    }

    /// <summary>Parses a legacy <c>status=</c> query value (700..702); false otherwise.</summary>
    public static bool TryParseTaskStatus(string? text, out ClientTaskStatus status)
    {
        status = default;
        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n)
            || !Enum.IsDefined((ClientTaskStatus)n))
        {
            return false;
        }

        status = (ClientTaskStatus)n;
        return true;
    }
}
