using Dragonfly.TestCommon;

namespace Dragonfly.Dfget.Tests.Cli;

/// <summary>The real dfget executable: console lines, exit status, bad flags.</summary>
public sealed class DfgetProcessTests
{
    [Fact]
    public async Task Download_SourcePattern_PrintsOriginalLinesAndAccountingAndExits0()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var temp = new TempDirectory("dfget-proc-");
        await using var origin = await OriginServer.StartAsync(timeout.Token);
        var content = new byte[1024];
        new Random(7).NextBytes(content);
        origin.AddFile("/small.bin", content);
        var (fileName, prefix) = DfgetServerProcessTests.DfgetCommand();

        var (exitCode, output) = await ProcessHost.RunAsync(
            fileName,
            [.. prefix, "-u", origin.Url("/small.bin").ToString(), "-o", temp.Combine("out", "small.bin"), "-p", "source", "--home", temp.Combine("home")],
            timeout.Token);

        exitCode.Should().Be(0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines[0].Should().MatchRegex(@"^--\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}--  http://127\.0\.0\.1:\d+/small\.bin$");
        lines.Should().Contain(l => l.StartsWith("dfget version:", StringComparison.Ordinal));
        lines.Should().Contain("workspace:" + temp.Combine("home"));
        lines.Should().Contain(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^download SUCCESS cost:\d+\.\d{3}s length:1024 reason:100$"));
        lines.Should().Contain("from peers: 0 B, from supernode: 0 B, from origin: 1024 B");
        (await File.ReadAllBytesAsync(temp.Combine("out", "small.bin"), timeout.Token)).Should().Equal(content);
        File.Exists(temp.Combine("home", "logs", "dfclient.log")).Should().BeTrue();
    }

    [Fact]
    public async Task Download_NotBackSourceAndNoSupernode_FailsWithExit80AndOriginalFailLine()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var temp = new TempDirectory("dfget-proc-");
        var (fileName, prefix) = DfgetServerProcessTests.DfgetCommand();

        var (exitCode, output) = await ProcessHost.RunAsync(
            fileName,
            [.. prefix, "-u", "http://127.0.0.1:1/x.bin", "-o", temp.Combine("x.bin"), "-n", "127.0.0.1:1", "--notbs", "-p", "cdn", "--home", temp.Combine("home")],
            timeout.Token);

        exitCode.Should().Be(80, output);
        output.Should().MatchRegex(@"download FAIL\(1104\) cost:\d+\.\d{3}s length:-?\d+ reason:1001 error:\{""Code"":1104,""Msg"":"".*""\}");
        File.Exists(temp.Combine("x.bin")).Should().BeFalse();
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("-u", "notaurl")]
    [InlineData("-u", "http://h/f", "--timeout", "soon")]
    public async Task BadFlags_ExitNonZeroWithOneClearLineAndNoStackTrace(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (fileName, prefix) = DfgetServerProcessTests.DfgetCommand();

        var (exitCode, output) = await ProcessHost.RunAsync(fileName, [.. prefix, .. args], timeout.Token);

        exitCode.Should().Be(2);
        output.Should().StartWith("dfget: ");
        output.Should().NotContain("   at ").And.NotContain("Exception");
    }

    [Fact]
    public async Task Version_PrintsTheVersion()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (fileName, prefix) = DfgetServerProcessTests.DfgetCommand();

        var (exitCode, output) = await ProcessHost.RunAsync(fileName, [.. prefix, "version"], timeout.Token);

        exitCode.Should().Be(0);
        output.Trim().Should().Be("dfget version " + Dragonfly.Dfget.Engine.DfgetVersion.Current);
    }
}
