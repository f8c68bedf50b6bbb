using Dragonfly.Common.Hashing;
using Dragonfly.Common.Nodes;
using Dragonfly.Dfget.Downloading;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Tests.Downloading;
using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.Engine;

public sealed class DownloadOrchestratorTests : IAsyncLifetime
{
    private const int PieceSize = 1024 * 1024;
    private readonly TempDirectory _dir = new();
    private readonly DfgetHttpClients _clients = new();
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(60));
    private readonly FakeUploaderLauncher _launcher = new();
    private PeerPieceServer _peer = null!;
    private OriginServer _origin = null!;
    private ScriptedSupernodeSession _session = null!;
    private FakeSessionFactory _factory = null!;

    public async Task InitializeAsync()
    {
        var content = PieceFetcherTests.MakeContent((PieceSize * 3) + 77, seed: 3);
        _peer = await PeerPieceServer.StartAsync(content, PieceSize);
        _origin = await OriginServer.StartAsync();
        _origin.AddFile("/file.bin", content);
        _session = new ScriptedSupernodeSession(_peer.Pieces(), Md5Hex.Of(content), content.Length, PieceSize);
        _factory = new FakeSessionFactory(_session);
    }

    public async Task DisposeAsync()
    {
        await _peer.DisposeAsync();
        await _origin.DisposeAsync();
        _clients.Dispose();
        _cts.Dispose();
        _dir.Dispose();
    }

    private string Output => _dir.Combine("out", "file.bin");

    private WorkHomeLayout Home => new(_dir.Combine("home"));

    [Fact]
    public async Task DownloadAsync_P2p_WritesOutputAsHardLinkOfServiceFile()
    {
        var result = await Engine().DownloadAsync(Request(), null, _cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.ExitCode.Should().Be(0);
        result.BackSourceReason.Should().Be(0);
        result.Length.Should().Be(_peer.Content.Length);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(_peer.Content);
        var service = Directory.GetFiles(Home.DataDir, "*.service").Should().ContainSingle().Subject;
        Path.GetFileName(service).Should().StartWith("file.bin-").And.EndWith(".service");
        _factory.Info!.Path.Should().Be("/peer/file/" + Path.GetFileNameWithoutExtension(service));
        _factory.Info.Port.Should().Be(15001);
        _factory.Info.Pattern.Should().Be("p2p");

        // Hard link: a write through the .service file is visible at the output.
        using (var handle = File.OpenHandle(service, FileMode.Open, FileAccess.Write))
        {
            RandomAccess.Write(handle, new byte[] { (byte)~_peer.Content[0] }, 0);
        }

        (await File.ReadAllBytesAsync(Output))[0].Should().Be((byte)~_peer.Content[0]);
        _launcher.Finished.Should().ContainSingle().Which.TaskId.Should().Be(_session.Current!.TaskId);
        _session.Metrics.Should().ContainSingle().Which.Success.Should().BeTrue();
        result.Bytes.FromPeers.Should().Be(_peer.Content.Length);
        result.Bytes.FromSource.Should().Be(0);
        result.Bytes.PiecesPerPeer.Should().ContainKey($"127.0.0.1:{_peer.Port}").WhoseValue.Should().Be(4);
        Directory.GetFiles(_dir.Combine("out")).Should().ContainSingle();
    }

    [Fact]
    public async Task DownloadAsync_UploaderUnavailable_RegistersAsCdnPeerWithPort0()
    {
        _launcher.Port = null;

        var result = await Engine().DownloadAsync(Request(), null, _cts.Token);

        result.Success.Should().BeTrue(result.Message);
        _factory.Info!.Port.Should().Be(0);
        _factory.Info.Pattern.Should().Be("cdn");
        (await File.ReadAllBytesAsync(Output)).Should().Equal(_peer.Content);
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
        _launcher.Finished.Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_RegisterFailsWithNotBs_FailsWithReason1001AndExit80()
    {
        _session.RegisterResult = new RegisterOutcome.Failed(500, "source 404");

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true }, null, _cts.Token);

        result.Success.Should().BeFalse();
        result.BackSourceReason.Should().Be(1001);
        result.ErrorCode.Should().Be(DfgetErrorCode.Download);
        result.ExitCode.Should().Be(80);
        File.Exists(Output).Should().BeFalse();
        _origin.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task DownloadAsync_RegisterFails_BacksToSourceWithReason1()
    {
        _session.RegisterResult = new RegisterOutcome.Failed(-100, "connection refused");

        var result = await Engine().DownloadAsync(Request(), null, _cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(1);
        result.ExitCode.Should().Be(0);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(_peer.Content);
        result.Bytes.FromSource.Should().Be(_peer.Content.Length);
        Directory.GetFiles(_dir.Combine("out")).Should().ContainSingle();
    }

    [Fact]
    public async Task DownloadAsync_RegisterFailsAndSource404_FailsWithReason1AndNoOutput()
    {
        _session.RegisterResult = new RegisterOutcome.Failed(500, "source 404");
        _origin.File("/file.bin").StatusOverride = 404;

        var result = await Engine().DownloadAsync(Request(), null, _cts.Token);

        result.Success.Should().BeFalse();
        result.BackSourceReason.Should().Be(1);
        result.ExitCode.Should().Be(80);
        result.Message.Should().Contain("404");
        Directory.GetFiles(_dir.Combine("out")).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_CdnFailedWithNotBs_FailsWithReason1003()
    {
        _session.Script.Enqueue(_ => new PullOutcome.Failed(500, "cdn failed"));

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true }, null, _cts.Token);

        result.BackSourceReason.Should().Be(1003);
        result.ExitCode.Should().Be(80);
        File.Exists(Output).Should().BeFalse();
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
        _session.ServiceDownCalls.Should().Be(1);
        _session.Metrics.Should().ContainSingle().Which.Success.Should().BeFalse();
    }

    [Fact]
    public async Task DownloadAsync_PatternSource_DownloadsFromOriginWithReason100WithoutSupernode()
    {
        var result = await Engine().DownloadAsync(Request() with { Pattern = DownloadPattern.Source }, null, _cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(100);
        _factory.Created.Should().Be(0);
        _launcher.Launches.Should().BeEmpty();
        (await File.ReadAllBytesAsync(Output)).Should().Equal(_peer.Content);
    }

    [Fact]
    public async Task DownloadAsync_EmptyNodeList_BacksToSourceWithReason8()
    {
        var result = await Engine().DownloadAsync(Request() with { Nodes = null }, null, _cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(8);
        _factory.Created.Should().Be(0);
    }

    [Fact]
    public async Task DownloadAsync_TimeoutWithNotBs_FailsWithReason1000AndTimeoutMessage()
    {
        _peer.Delay = _ => TimeSpan.FromSeconds(5);

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true, Timeout = TimeSpan.FromMilliseconds(200) }, null, _cts.Token);

        result.Success.Should().BeFalse();
        result.BackSourceReason.Should().Be(1000);
        result.Message.Should().Be("download timeout(0.2s)");
        result.ExitCode.Should().Be(80);
        File.Exists(Output).Should().BeFalse();
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
        Directory.GetFiles(_dir.Combine("out")).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_SupernodeMd5DiffersWithNotBs_FailsWithReason1002AndKeepsOldOutput()
    {
        Directory.CreateDirectory(_dir.Combine("out"));
        await File.WriteAllTextAsync(Output, "old");
        _session.Md5 = new string('0', 32);

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true }, null, _cts.Token);

        result.BackSourceReason.Should().Be(1002);
        result.Message.Should().Contain("md5");
        (await File.ReadAllTextAsync(Output)).Should().Be("old");
        Directory.GetFiles(_dir.Combine("out")).Should().ContainSingle();
    }

    [Fact]
    public async Task DownloadAsync_SupernodeMd5Differs_BacksToSourceWithReason2()
    {
        _session.Md5 = new string('0', 32);

        var result = await Engine().DownloadAsync(Request(), null, _cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(2);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(_peer.Content);
    }

    [Fact]
    public async Task DownloadAsync_ReportsRegisteredAndEveryPiece()
    {
        var reports = new System.Collections.Concurrent.ConcurrentQueue<DownloadProgress>();

        await Engine().DownloadAsync(Request(), new SyncProgress(reports.Enqueue), _cts.Token);

        reports.First().Kind.Should().Be(DownloadProgressKind.Registered);
        reports.First().TotalLength.Should().Be(_peer.Content.Length);
        reports.First().Node.Should().Be("127.0.0.1:8002");
        reports.First().LocalIp.Should().Be("127.0.0.1");
        reports.First().Sign.Should().MatchRegex(@"^\d+-\d+\.\d{3}$");
        reports.Count(r => r.Kind == DownloadProgressKind.PieceCompleted).Should().Be(4);
    }

    [Fact]
    public async Task DownloadAsync_CallerCancels_ThrowsAndLeavesNoFiles()
    {
        _peer.Delay = _ => TimeSpan.FromSeconds(10);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));

        var act = () => Engine().DownloadAsync(Request(), null, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        File.Exists(Output).Should().BeFalse();
        Directory.GetFiles(_dir.Combine("out")).Should().BeEmpty();
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
    }

    [Theory]
    [InlineData("ftp://host/file")]
    public void Validate_NonHttpUrl_Throws(string url)
    {
        var act = () => Request() with { Url = new Uri(url) };
        act().Invoking(r => r.Validate()).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Validate_BadHeaderOrMd5_Throws()
    {
        Request().Invoking(r => (r with { Headers = ["novalue"] }).Validate()).Should().Throw<ArgumentException>();
        Request().Invoking(r => (r with { Md5 = "xyz" }).Validate()).Should().Throw<ArgumentException>();
        Request().Invoking(r => (r with { Output = _dir.Path }).Validate()).Should().Throw<ArgumentException>();
    }

    private DownloadRequest Request() => new()
    {
        Url = _origin.Url("/file.bin"),
        Output = Output,
        WorkHome = Home,
        Nodes = SupernodeList.Parse(["127.0.0.1:8002"]),
    };

    private DownloadOrchestrator Engine() => new(
        _factory,
        _launcher,
        new FixedIpResolver(),
        new PieceFetcher(_clients, TimeProvider.System),
        new BackSourceDownloader(_clients, NullLogger<BackSourceDownloader>.Instance),
        TimeProvider.System,
        new SeededRandomFactory(),
        NullLoggerFactory.Instance);

    private sealed class SyncProgress(Action<DownloadProgress> action) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => action(value);
    }
}
