using Dragonfly.Common.Hashing;
using Dragonfly.Common.Rates;
using Dragonfly.Dfget.Downloading;
using Dragonfly.Dfget.Registration;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfget.Tests.Downloading;

public sealed class PieceFetcherTests : IAsyncLifetime
{
    private const int PieceSize = 1024 * 1024;
    private readonly TempDirectory _dir = new();
    private readonly DfgetHttpClients _clients = new();
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(60));
    private PeerPieceServer _peer = null!;

    public static byte[] MakeContent(int length, int seed = 7)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public async Task InitializeAsync() => _peer = await PeerPieceServer.StartAsync(MakeContent((PieceSize * 2) + 1000), PieceSize);

    public async Task DisposeAsync()
    {
        await _peer.DisposeAsync();
        _clients.Dispose();
        _cts.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task FetchAsync_GoodPiece_WritesUnwrappedContentAtItsOffset()
    {
        using var file = PieceFile.Create(_dir.Combine("a.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());
        var piece = _peer.Pieces()[1];

        var result = await fetcher.FetchAsync(piece, Target(file), _cts.Token);

        var success = result.Should().BeOfType<PieceFetchResult.Success>().Subject;
        success.ContentOffset.Should().Be(PieceSize - 5);
        success.ContentLength.Should().Be(PieceSize - 5);
        var written = new byte[PieceSize - 5];
        await file.ReadAsync(PieceSize - 5, written, _cts.Token);
        written.Should().Equal(_peer.Content.AsSpan(PieceSize - 5, PieceSize - 5).ToArray());
    }

    [Fact]
    public async Task FetchAsync_LastShortPiece_WritesOnlyItsContent()
    {
        using var file = PieceFile.Create(_dir.Combine("b.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());
        var pieces = _peer.Pieces();

        var result = await fetcher.FetchAsync(pieces[^1], Target(file), _cts.Token);

        var success = result.Should().BeOfType<PieceFetchResult.Success>().Subject;
        success.ContentLength.Should().Be(_peer.Content.Length - (2 * (PieceSize - 5)));
        file.Length.Should().Be(_peer.Content.Length);
    }

    [Fact]
    public async Task FetchAsync_SendsRangePieceHeadersAndUserAgent()
    {
        using var file = PieceFile.Create(_dir.Combine("c.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());

        await fetcher.FetchAsync(_peer.Pieces("x.bin-1-2.000")[2], Target(file), _cts.Token);

        _peer.Requests.Should().ContainSingle();
        var request = _peer.Requests.Single();
        request.Path.Should().Be("/peer/file/x.bin-1-2.000");
        request.Range.Should().Be($"bytes={2 * PieceSize}-{(3 * PieceSize) - 1}");
        request.PieceNum.Should().Be("2");
        request.PieceSize.Should().Be(PieceSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.UserAgent.Should().StartWith("dfget/");
    }

    [Theory]
    [InlineData("", 8001)]
    [InlineData("a b", 8001)]
    [InlineData("[::1", 8001)]
    [InlineData("127.0.0.1/x", 8001)]
    [InlineData("127.0.0.1", 0)]
    [InlineData("127.0.0.1", 70000)]
    public async Task FetchAsync_HolderAddressThatMakesNoUrl_FailsThePieceWithoutThrowing(string peerIp, int peerPort)
    {
        using var file = PieceFile.Create(_dir.Combine("bad-holder.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());
        var piece = _peer.Pieces()[0] with { PeerIp = peerIp, PeerPort = peerPort };

        var result = await fetcher.FetchAsync(piece, Target(file), _cts.Token);

        result.Should().BeOfType<PieceFetchResult.Failed>().Which.Message.Should().Contain("invalid piece holder address");
        file.Length.Should().Be(0);
    }

    [Fact]
    public async Task FetchAsync_HolderNameLongerThanAnyHost_FailsThePieceWithoutThrowing()
    {
        using var file = PieceFile.Create(_dir.Combine("long-holder.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());

        var result = await fetcher.FetchAsync(_peer.Pieces()[0] with { PeerIp = new string('a', 3000) }, Target(file), _cts.Token);

        result.Should().BeOfType<PieceFetchResult.Failed>();
    }

    [Fact]
    public async Task FetchAsync_HolderResetsEveryConnection_FailsThePieceEveryTime()
    {
        // A peer killed mid-accept: now and then SocketsHttpHandler surfaces the reset as a bare SocketException.
        using var holder = new ResettingServer();
        using var file = PieceFile.Create(_dir.Combine("reset.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());
        var piece = _peer.Pieces()[0] with { PeerPort = holder.Port };

        for (var i = 0; i < 1500; i++)
        {
            (await fetcher.FetchAsync(piece, Target(file), _cts.Token)).Should().BeOfType<PieceFetchResult.Failed>();
        }

        holder.Accepted.Should().BeGreaterThanOrEqualTo(1500);
        file.Length.Should().Be(0);
    }

    [Fact]
    public async Task FetchAsync_CorruptedBody_ReturnsMd5Mismatch()
    {
        _peer.Behaviour = (_, _) => PieceBehaviour.Corrupt;
        using var file = PieceFile.Create(_dir.Combine("d.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());
        var piece = _peer.Pieces()[0];

        var result = await fetcher.FetchAsync(piece, Target(file), _cts.Token);

        var mismatch = result.Should().BeOfType<PieceFetchResult.Md5Mismatch>().Subject;
        mismatch.RealMd5.Should().NotBe(piece.Md5!.Value.Md5).And.HaveLength(32);
    }

    [Fact]
    public async Task FetchAsync_Peer404_ReturnsNotFound()
    {
        _peer.Behaviour = (_, _) => PieceBehaviour.NotFound;
        using var file = PieceFile.Create(_dir.Combine("e.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());

        var result = await fetcher.FetchAsync(_peer.Pieces()[0], Target(file), _cts.Token);

        result.Should().BeOfType<PieceFetchResult.NotFound>();
    }

    [Fact]
    public async Task FetchAsync_TruncatedBody_ReturnsFailed()
    {
        _peer.Behaviour = (_, _) => PieceBehaviour.Truncate;
        using var file = PieceFile.Create(_dir.Combine("f.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());

        var result = await fetcher.FetchAsync(_peer.Pieces()[0], Target(file), _cts.Token);

        result.Should().BeOfType<PieceFetchResult.Failed>();
    }

    [Theory]
    [InlineData(PieceBehaviour.BadTail)]
    [InlineData(PieceBehaviour.TrailingBytes)]
    public async Task FetchAsync_WrongTailOrTrailingBytes_ReturnsFailed(PieceBehaviour behaviour)
    {
        _peer.Behaviour = (_, _) => behaviour;
        using var file = PieceFile.Create(_dir.Combine("t.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());

        var result = await fetcher.FetchAsync(_peer.Pieces()[0], Target(file), _cts.Token);

        result.Should().BeOfType<PieceFetchResult.Failed>().Which.Message.Should().Contain("tail");
    }

    [Fact]
    public async Task FetchAsync_ServerError_ReturnsFailed()
    {
        _peer.Behaviour = (_, _) => PieceBehaviour.ServerError;
        using var file = PieceFile.Create(_dir.Combine("g.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());

        var result = await fetcher.FetchAsync(_peer.Pieces()[0], Target(file), _cts.Token);

        result.Should().BeOfType<PieceFetchResult.Failed>().Which.Message.Should().Contain("500");
    }

    [Fact]
    public async Task FetchAsync_RelativePathWithoutSlash_IsRejectedWithoutRequest()
    {
        using var file = PieceFile.Create(_dir.Combine("h.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());
        var piece = _peer.Pieces()[0] with { Path = "peer/file/../../etc" };

        var result = await fetcher.FetchAsync(piece, Target(file), _cts.Token);

        result.Should().BeOfType<PieceFetchResult.Failed>();
        _peer.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task FetchAsync_SourcePatternPiece_FetchesRawRangeFromOriginWithCdnSourceHeader()
    {
        await using var origin = await OriginServer.StartAsync(_cts.Token);
        origin.AddFile("/raw.bin", _peer.Content);
        using var file = PieceFile.Create(_dir.Combine("s.service"));
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());
        var piece = _peer.Pieces()[1] with { Path = origin.Url("/raw.bin").ToString(), Md5 = null };

        var result = await fetcher.FetchAsync(piece, Target(file) with { SourceLength = _peer.Content.Length }, _cts.Token);

        result.Should().BeOfType<PieceFetchResult.Success>().Which.ContentLength.Should().Be(PieceSize - 5);
        origin.Requests.Should().ContainSingle().Which.Range.Should().Be($"bytes={PieceSize - 5}-{(2 * (PieceSize - 5)) - 1}");
        var written = new byte[PieceSize - 5];
        await file.ReadAsync(PieceSize - 5, written, _cts.Token);
        written.Should().Equal(_peer.Content.AsSpan(PieceSize - 5, PieceSize - 5).ToArray());
    }

    private static PieceFetchTarget Target(PieceFile file) => new(file, -1, new Rate(64 * 1024), DownloadRateLimiter.Unlimited);
}
