using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Api.Models;

namespace Dragonfly.Common.Tests.Api;

public sealed class LegacyCodesTests
{
    [Theory]
    [InlineData(LegacyCode.Success, 200, "success")]
    [InlineData(LegacyCode.SystemError, 500, "system error")]
    [InlineData(LegacyCode.ParamError, 501, "param is illegal")]
    [InlineData(LegacyCode.TargetNotFound, 502, "target not found")]
    [InlineData(LegacyCode.PeerFinish, 600, "peer task end")]
    [InlineData(LegacyCode.PeerContinue, 601, "peer task go on")]
    [InlineData(LegacyCode.PeerWait, 602, "peer task wait")]
    [InlineData(LegacyCode.PeerLimited, 603, "peer down limit")]
    [InlineData(LegacyCode.SuperFail, 604, "super node sync source fail")]
    [InlineData(LegacyCode.UnknownError, 605, "unknown error")]
    [InlineData(LegacyCode.TaskConflict, 606, "task conflict")]
    [InlineData(LegacyCode.UrlNotReachable, 607, "url is not reachable")]
    [InlineData(LegacyCode.NeedAuth, 608, "need auth")]
    [InlineData(LegacyCode.WaitAuth, 609, "wait auth")]
    [InlineData(LegacyCode.SourceError, 610, null)]
    [InlineData(LegacyCode.GetPieceReport, 611, null)]
    [InlineData(LegacyCode.GetPeerDown, 612, null)]
    [InlineData(LegacyCode.HttpError, -100, null)]
    public void DefaultMessage_Code_MatchesOriginalTable(LegacyCode code, int number, string? message)
    {
        ((int)code).Should().Be(number);
        LegacyCodes.DefaultMessage(code).Should().Be(message);
    }

    [Theory]
    [InlineData("500", ClientPieceResult.Fail, PieceResult.Failed)]
    [InlineData("501", ClientPieceResult.Success, PieceResult.Success)]
    [InlineData("502", ClientPieceResult.Invalid, PieceResult.Invalid)]
    [InlineData("503", ClientPieceResult.SemiSuccess, PieceResult.SemiSuccess)]
    public void TryParsePieceResult_LegacyNumber_MapsToV1(string text, ClientPieceResult expected, PieceResult v1)
    {
        LegacyCodes.TryParsePieceResult(text, out var result).Should().BeTrue();
        result.Should().Be(expected);
        result.ToPieceResult().Should().Be(v1);
        v1.ToClientPieceResult().Should().Be(expected);
    }

    [Theory]
    [InlineData("700", ClientTaskStatus.Start, PiecePullStatus.Started)]
    [InlineData("701", ClientTaskStatus.Running, PiecePullStatus.Running)]
    [InlineData("702", ClientTaskStatus.Finish, PiecePullStatus.Finished)]
    public void TryParseTaskStatus_LegacyNumber_MapsToV1(string text, ClientTaskStatus expected, PiecePullStatus v1)
    {
        LegacyCodes.TryParseTaskStatus(text, out var status).Should().BeTrue();
        status.Should().Be(expected);
        status.ToPiecePullStatus().Should().Be(v1);
        v1.ToClientTaskStatus().Should().Be(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("704")]
    [InlineData("abc")]
    public void TryParseTaskStatus_Invalid_ReturnsFalse(string? text)
    {
        LegacyCodes.TryParseTaskStatus(text, out _).Should().BeFalse();
        LegacyCodes.TryParsePieceResult(text, out _).Should().BeFalse();
    }

    [Fact]
    public void Failure_Message_IsCode500Envelope()
    {
        LegacyResults.Failure("boom").Should().Be(new ErrorResponse { Code = 500, Message = "boom" });
    }
}
