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

/// <summary>
/// A <see cref="DownloadOrchestrator"/> over a real peer piece server and a real origin on loopback, a scripted supernode
/// session and a fake uploader launcher: 3 MiB + 77 bytes in 1 MiB pieces.
/// </summary>
public abstract class OrchestratorTestBase(int seed, FakeUploaderLauncher launcher) : IAsyncLifetime
{
    protected Md5Batcher Md5 { get; } = new();

    protected const int PieceSize = 1024 * 1024;

    protected TempDirectory Dir { get; } = new();

    protected DfgetHttpClients Clients { get; } = new();

    protected CancellationTokenSource Cts { get; } = new(TimeSpan.FromSeconds(60));

    protected FakeUploaderLauncher Launcher { get; } = launcher;

    protected PeerPieceServer Peer { get; private set; } = null!;

    protected OriginServer Origin { get; private set; } = null!;

    protected ScriptedSupernodeSession Session { get; private set; } = null!;

    protected FakeSessionFactory Factory { get; private set; } = null!;

    protected string Output => Dir.Combine("out", "file.bin");

    protected WorkHomeLayout Home => new(Dir.Combine("home"));

    public async Task InitializeAsync()
    {
        var content = PieceFetcherTests.MakeContent((PieceSize * 3) + 77, seed);
        Peer = await PeerPieceServer.StartAsync(content, PieceSize);
        Origin = await OriginServer.StartAsync();
        Origin.AddFile("/file.bin", content);
        Session = new ScriptedSupernodeSession(Peer.Pieces(), Md5Hex.Of(content), content.Length, PieceSize);
        Factory = new FakeSessionFactory(Session);
    }

    public async Task DisposeAsync()
    {
        await Peer.DisposeAsync();
        await Origin.DisposeAsync();
        Clients.Dispose();
        Cts.Dispose();
        Dir.Dispose();
    }

    protected DownloadRequest Request() => new()
    {
        Url = Origin.Url("/file.bin"),
        Output = Output,
        WorkHome = Home,
        Nodes = SupernodeList.Parse(["127.0.0.1:8002"]),
    };

    protected DownloadOrchestrator Engine() => new(
        Factory,
        Launcher,
        new FixedIpResolver(),
        new PieceFetcher(Clients, TimeProvider.System, Md5),
        Md5,
        new BackSourceDownloader(Clients, NullLogger<BackSourceDownloader>.Instance),
        TimeProvider.System,
        new SeededRandomFactory(),
        NullLoggerFactory.Instance);
}
