using Dragonfly.Dfget.App.Commands;
using Dragonfly.Dfget.Engine;

namespace Dragonfly.Dfget.Tests.Cli;

public sealed class DownloadCommandTests
{
    [Fact]
    public void ResultLines_Success_PrintsOriginalLineAndByteAccounting()
    {
        var result = new DownloadResult
        {
            Success = true,
            Length = 10485760,
            Duration = TimeSpan.FromMilliseconds(612),
            Bytes = new ByteAccounting { FromPeers = 8388608, FromSupernode = 2097152, FromSource = 0 },
        };

        DownloadCommand.ResultLines(result).Should().Equal(
            "download SUCCESS cost:0.612s length:10485760 reason:0",
            "from peers: 8388608 B, from supernode: 2097152 B, from origin: 0 B");
    }

    [Fact]
    public void ResultLines_PiecesFetchedAgain_SaysHowManyOfTheTransferredBytesWere()
    {
        var result = new DownloadResult
        {
            Success = true,
            Length = 3145851,
            Duration = TimeSpan.FromMilliseconds(612),
            Bytes = new ByteAccounting { FromPeers = 3145851, FromSupernode = 2097152, Refetched = 2097152 },
        };

        DownloadCommand.ResultLines(result).Last().Should().Be(
            "from peers: 3145851 B, from supernode: 2097152 B, from origin: 0 B (fetched again: 2097152 B)");
    }

    [Fact]
    public void ResultLines_Registered_PrintsSignAndClientLines()
    {
        var result = new DownloadResult
        {
            Success = true,
            Length = 5,
            Duration = TimeSpan.FromMilliseconds(10),
            Sign = "76-1795238008.142",
            LocalIp = "127.0.0.1",
            Supernode = "127.0.0.1:8002",
        };

        DownloadCommand.ResultLines(result).Take(2).Should().Equal(
            "sign:76-1795238008.142",
            "client:127.0.0.1 connected to node:127.0.0.1:8002");
    }

    [Fact]
    public void ResultLines_Failure_PrintsCodeReasonAndJsonError()
    {
        var result = new DownloadResult
        {
            Success = false,
            ErrorCode = DfgetErrorCode.Download,
            BackSourceReason = 1000,
            Length = -1,
            Duration = TimeSpan.FromMilliseconds(1),
            Message = "download timeout(0.001s) \"quoted\"",
        };

        DownloadCommand.ResultLines(result).Should().Equal(
            "download FAIL(1104) cost:0.001s length:-1 reason:1000 error:{\"Code\":1104,\"Msg\":\"download timeout(0.001s) \\\"quoted\\\"\"}");
        result.ExitCode.Should().Be(80);
    }

    [Theory]
    [InlineData("plain text", "\"plain text\"")]
    [InlineData("say \"hi\" \\ bye", "\"say \\\"hi\\\" \\\\ bye\"")]
    [InlineData("a\nb\rc\td", "\"a\\nb\\rc\\td\"")]
    [InlineData("\u0001\b\f\u001f", "\"\\u0001\\u0008\\u000c\\u001f\"")]
    [InlineData("<a> & b", "\"\\u003ca\\u003e \\u0026 b\"")]
    [InlineData("line\u2028para\u2029", "\"line\\u2028para\\u2029\"")]
    [InlineData("héllo 世界 😀", "\"héllo 世界 😀\"")]
    [InlineData("", "\"\"")]
    public void GoJsonString_EscapesAsGoEncodingJson(string value, string expected) =>
        GoJsonString.Quote(value).Should().Be(expected);

    [Fact]
    public void GoJsonString_LoneSurrogate_IsTheReplacementCharacter() =>
        GoJsonString.Quote("lone " + (char)0xD800 + " surrogate").Should().Be("\"lone \\ufffd surrogate\"");
}
