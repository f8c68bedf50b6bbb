using Dragonfly.Common.Api.Models;

namespace Dragonfly.Common.Api.Legacy;

/// <summary>Builders for the legacy <c>{"code","msg","data"}</c> envelopes the supernode answers with.</summary>
public static class LegacyResults
{
    /// <summary>An envelope with just a code and a message (the default message when <paramref name="msg"/> is null).</summary>
    public static ResultInfo Of(LegacyCode code, string? msg = null) =>
        new() { Code = (int)code, Msg = msg ?? LegacyCodes.DefaultMessage(code) };

    /// <summary>An envelope with only a code, as <c>/peer/piece/suc</c> (611) and <c>/peer/service/down</c> (612) answer.</summary>
    public static ResultInfo CodeOnly(LegacyCode code) => new() { Code = (int)code };

    /// <summary><c>{"code":200,"msg":"success","data":{...}}</c> for <c>POST /peer/registry</c>.</summary>
    public static ResultInfo Registered(RegisterResult data) =>
        ResultInfo.Create((int)LegacyCode.Success, LegacyCodes.DefaultMessage(LegacyCode.Success), data, DragonflyJsonContext.Default.RegisterResult);

    /// <summary>601 with the pieces to download.</summary>
    public static ResultInfo Continue(IReadOnlyList<PullPieceTaskItem> pieces) =>
        ResultInfo.Create((int)LegacyCode.PeerContinue, LegacyCodes.DefaultMessage(LegacyCode.PeerContinue), pieces, DragonflyJsonContext.Default.IReadOnlyListPullPieceTaskItem);

    /// <summary>602 without data.</summary>
    public static ResultInfo Wait(string? msg = null) => Of(LegacyCode.PeerWait, msg);

    /// <summary>600 with the source md5 and the wrapped length.</summary>
    public static ResultInfo Finished(string? md5, long fileLength) =>
        ResultInfo.Create(
            (int)LegacyCode.PeerFinish,
            LegacyCodes.DefaultMessage(LegacyCode.PeerFinish),
            new PeerFinishData { Md5 = md5, FileLength = fileLength },
            DragonflyJsonContext.Default.PeerFinishData);

    /// <summary>The HTTP 500 body of a legacy handler failure: <c>{"code":500,"message":...}</c>.</summary>
    public static ErrorResponse Failure(string message) => new() { Code = (int)LegacyCode.SystemError, Message = message };

    /// <summary>The legacy code of an envelope, when it is a defined one.</summary>
    public static LegacyCode? CodeOf(ResultInfo result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return LegacyCodes.IsDefined(result.Code) ? (LegacyCode)result.Code : null;
    }
}
