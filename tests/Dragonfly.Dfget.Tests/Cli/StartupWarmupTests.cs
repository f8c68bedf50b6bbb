using Dragonfly.Dfget.App.Commands;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfget.Tests.Cli;

public sealed class StartupWarmupTests
{
    [Fact]
    public async Task Start_WithARecordedUploader_PingsItOnce()
    {
        using var temp = new TempDirectory();
        await using var uploader = await OriginServer.StartAsync();
        var home = new WorkHomeLayout(temp.Path);
        home.EnsureCreated();
        await new HostMetaFile(home.HostMetaPath).WritePortAsync(uploader.BaseAddress.Port, CancellationToken.None);

        await StartupWarmup.Start(Request(home, "127.0.0.1"));

        uploader.Requests.Should().ContainSingle().Which.Path.Should().Be("/server/ping");
    }

    [Theory]
    [InlineData(DownloadPattern.P2p, "127.0.0.1")]
    [InlineData(DownloadPattern.P2p, "not-an-address")]
    [InlineData(DownloadPattern.Cdn, null)]
    [InlineData(DownloadPattern.Source, null)]
    public async Task Start_NoUploaderOrBadAddress_CompletesWithoutFaulting(DownloadPattern pattern, string? bindIp)
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        home.EnsureCreated();
        if (bindIp is not null)
        {
            // A recorded port nothing listens on.
            await new HostMetaFile(home.HostMetaPath).WritePortAsync(ProcessHost.FreeTcpPort(), CancellationToken.None);
        }

        var warmup = StartupWarmup.Start(Request(home, bindIp) with { Pattern = pattern });

        await warmup;
        warmup.IsCompletedSuccessfully.Should().BeTrue();
    }

    private static DownloadRequest Request(WorkHomeLayout home, string? bindIp) => new()
    {
        Url = new Uri("http://127.0.0.1:1/f"),
        Output = Path.Combine(home.Root, "out"),
        WorkHome = home,
        BindIp = bindIp,
    };
}
