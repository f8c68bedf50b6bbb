using Dragonfly.Common.Hashing;
using Dragonfly.Common.Nodes;
using Dragonfly.Dfget.Downloading;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Streaming;
using Dragonfly.Dfget.Tests.Downloading;
using Dragonfly.Dfget.Tests.Engine;
using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.Streaming;

public sealed class StreamingWithEngineTests : IAsyncLifetime
{
    private readonly Md5Batcher _md5 = new();

    private const int PieceSize = 1024 * 1024;
    private readonly TempDirectory _dir = new();
    private readonly DfgetHttpClients _clients = new();
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(60));
    private PeerPieceServer _peer = null!;

    public async Task InitializeAsync() => _peer = await PeerPieceServer.StartAsync(PieceFetcherTests.MakeContent((PieceSize * 3) + 999, seed: 21), PieceSize);

    public async Task DisposeAsync()
    {
        await _peer.DisposeAsync();
        _clients.Dispose();
        _cts.Dispose();
        _dir.Dispose();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CopyToAsync_RealEngineFirstPieceLate_StreamsWholeFileInOrderAndVerifiesSha256(bool p2p)
    {
        // Piece 0 arrives last, so pieces 1..3 complete out of order before anything can be streamed.
        _peer.Delay = num => num == 0 ? TimeSpan.FromMilliseconds(400) : TimeSpan.Zero;
        var session = new ScriptedSupernodeSession(_peer.Pieces(), Md5Hex.Of(_peer.Content), _peer.Content.Length, PieceSize);
        var engine = new DownloadOrchestrator(
            new FakeSessionFactory(session),
            new FakeUploaderLauncher { Port = p2p ? 15001 : null },
            new FixedIpResolver(),
            new PieceFetcher(_clients, TimeProvider.System, _md5),
            _md5,
            new BackSourceDownloader(_clients, NullLogger<BackSourceDownloader>.Instance),
            TimeProvider.System,
            new SeededRandomFactory(),
            NullLoggerFactory.Instance);
        var request = new DownloadRequest
        {
            Url = new Uri("http://127.0.0.1:1/blob"),
            Output = _dir.Combine("blob"),
            WorkHome = new WorkHomeLayout(_dir.Combine("home")),
            Nodes = SupernodeList.Parse(["127.0.0.1:8002"]),
            NotBackSource = true,
        };
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(_peer.Content));
        var sink = new MemoryStream();

        await using var stream = new BlobStreamer(engine).Start(request, new StreamingOptions { Sha256 = digest }, _cts.Token);
        await stream.CopyToAsync(sink, _cts.Token);

        sink.ToArray().Should().Equal(_peer.Content);
        (await stream.Length).Should().Be(_peer.Content.Length);
        (await stream.Completion).Success.Should().BeTrue();
    }
}
