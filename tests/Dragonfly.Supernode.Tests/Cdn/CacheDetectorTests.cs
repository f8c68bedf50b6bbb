using System.Net;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Origin;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Options;

namespace Dragonfly.Supernode.Tests.Cdn;

/// <summary>An origin that answers every GET with a fixed status and records the extra headers it was sent.</summary>
internal sealed class FakeOriginClient : IOriginClient
{
    public HttpStatusCode Status { get; set; } = HttpStatusCode.NotModified;

    public List<IReadOnlyDictionary<string, string>?> Calls { get; } = [];

    public Task<OriginProbe> ProbeAsync(OriginRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new OriginProbe(OriginProbeStatus.Ok, -1, 200));

    public Task<bool> SupportsRangeAsync(OriginRequest request, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task<HttpResponseMessage> GetAsync(OriginRequest request, IReadOnlyDictionary<string, string>? extraHeaders, CancellationToken cancellationToken)
    {
        Calls.Add(extraHeaders);
        return Task.FromResult(new HttpResponseMessage(Status) { Content = new ByteArrayContent([]) });
    }
}

public sealed class CacheDetectorTests : IDisposable
{
    private const int Ps = 4 * 1024 * 1024;
    private readonly TempDirectory _home = new("cdn-detect-");
    private readonly FakeOriginClient _origin = new();
    private readonly CdnTestHarness _cdn;
    private readonly CacheDetector _detector;
    private readonly CdnTaskSpec _spec = CdnTestHarness.Spec(new Uri("http://127.0.0.1:1/file.bin"), 10L * 1024 * 1024, identifier: "v1");
    private readonly byte[] _source = OriginContent.Generate(3, 10L * 1024 * 1024);

    public CacheDetectorTests()
    {
        _cdn = new CdnTestHarness(_home.Path, _origin);
        _detector = new CacheDetector(_cdn.Store, _origin, Options.Create(_cdn.Options));
    }

    public void Dispose()
    {
        _cdn.Dispose();
        _home.Dispose();
    }

    [Fact]
    public async Task DetectAsync_NoMetadata_Downloads()
    {
        var decision = await _detector.DetectAsync(_spec, CancellationToken.None);

        decision.Kind.Should().Be(CacheDecisionKind.Download);
        _origin.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task DetectAsync_FinishedAndNotModified_FullHitWithRecordedMd5s()
    {
        var pieces = await WriteCacheAsync(pieceCount: 3, finished: true);

        var decision = await _detector.DetectAsync(_spec, CancellationToken.None);

        decision.Kind.Should().Be(CacheDecisionKind.FullHit);
        decision.Pieces.Should().Equal(pieces);
        decision.Md5FileRebuilt.Should().BeFalse();
        var headers = _origin.Calls.Should().ContainSingle().Subject!;
        headers["If-Modified-Since"].Should().Be("Fri, 02 Jan 2026 03:04:05 GMT");
        headers["If-None-Match"].Should().Be("\"v1\"");
    }

    [Fact]
    public async Task DetectAsync_SourceAnswers200_ExpiredDownloads()
    {
        await WriteCacheAsync(pieceCount: 3, finished: true);
        _origin.Status = HttpStatusCode.OK;

        (await _detector.DetectAsync(_spec, CancellationToken.None)).Kind.Should().Be(CacheDecisionKind.Download);
    }

    [Fact]
    public async Task DetectAsync_NoLastModifiedNorETag_ExpiredWithoutAskingTheSource()
    {
        await WriteCacheAsync(pieceCount: 3, finished: true, validators: false);

        var decision = await _detector.DetectAsync(_spec, CancellationToken.None);

        decision.Kind.Should().Be(CacheDecisionKind.Download);
        _origin.Calls.Should().BeEmpty();
    }

    [Theory]
    [InlineData("md5")]
    [InlineData("identifier")]
    [InlineData("pieceSize")]
    [InlineData("url")]
    public async Task DetectAsync_MetadataOfAnotherTask_Downloads(string mismatch)
    {
        await WriteCacheAsync(pieceCount: 3, finished: true);
        var spec = mismatch switch
        {
            "md5" => _spec with { Md5 = new string('b', 32) },
            "identifier" => _spec with { Identifier = "v2" },
            "pieceSize" => _spec with { PieceSize = 5 * 1024 * 1024 },
            _ => _spec with { TaskUrl = "http://127.0.0.1:1/other.bin" },
        };

        var decision = await _detector.DetectAsync(spec, CancellationToken.None);

        decision.Kind.Should().Be(CacheDecisionKind.Download);
        decision.Reason.Should().Contain("does not match");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task DetectAsync_CacheOfAnotherSourceLength_DownloadsWithoutServingOrResumingIt(bool finished)
    {
        // A cache cut from a 10-byte partial answer (or any other length) must not stand in for the whole file.
        await WriteCacheAsync(pieceCount: finished ? 3 : 2, finished: finished);
        var spec = _spec with { HttpFileLength = _source.Length + 1 };

        var decision = await _detector.DetectAsync(spec, CancellationToken.None);

        decision.Kind.Should().Be(CacheDecisionKind.Download);
        decision.Reason.Should().Contain("length");
        _origin.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task DetectAsync_FinishedCacheOfUnknownRecordedLength_ComparedByItsWrappedLength()
    {
        // Cached while the source length was unknown: the wrapped length tells how much source it holds.
        await WriteCacheAsync(pieceCount: 3, finished: true);
        var store = new FileMetadataStore(_cdn.Store);
        var meta = await store.ReadAsync(_spec.TaskId, CancellationToken.None);
        await store.WriteAsync(_spec.TaskId, meta! with { HttpFileLength = -1 }, CancellationToken.None);

        (await _detector.DetectAsync(_spec with { HttpFileLength = _source.Length + 1 }, CancellationToken.None)).Kind.Should().Be(CacheDecisionKind.Download);
        (await _detector.DetectAsync(_spec, CancellationToken.None)).Kind.Should().Be(CacheDecisionKind.FullHit);
    }

    [Fact]
    public async Task DetectAsync_Md5FileWithBadSha1_RecomputesPieceMd5sFromTheData()
    {
        var pieces = await WriteCacheAsync(pieceCount: 3, finished: true);
        var md5File = _cdn.Path(_spec.TaskId, ".md5");
        var lines = (await File.ReadAllTextAsync(md5File)).Split('\n');
        lines[^1] = new string('0', 40);
        await File.WriteAllTextAsync(md5File, string.Join('\n', lines));

        var decision = await _detector.DetectAsync(_spec, CancellationToken.None);

        decision.Kind.Should().Be(CacheDecisionKind.FullHit);
        decision.Md5FileRebuilt.Should().BeTrue();
        decision.Pieces.Should().Equal(pieces);
    }

    [Fact]
    public async Task DetectAsync_Md5FileAndDataBothCorrupt_Downloads()
    {
        await WriteCacheAsync(pieceCount: 3, finished: true);
        await File.WriteAllTextAsync(_cdn.Path(_spec.TaskId, ".md5"), "garbage");
        await using (var stream = new FileStream(_cdn.Path(_spec.TaskId), FileMode.Open, FileAccess.Write))
        {
            stream.Position = 10;
            stream.WriteByte(0);
        }

        (await _detector.DetectAsync(_spec, CancellationToken.None)).Kind.Should().Be(CacheDecisionKind.Download);
    }

    [Fact]
    public async Task DetectAsync_UnfinishedWithWholePieces_ResumesAfterThem()
    {
        await WriteCacheAsync(pieceCount: 2, finished: false, tornBytes: 1000);

        var decision = await _detector.DetectAsync(_spec, CancellationToken.None);

        decision.Kind.Should().Be(CacheDecisionKind.Resume);
        decision.StartPiece.Should().Be(2);
    }

    [Fact]
    public async Task DetectAsync_PreviousRunFailed_Downloads()
    {
        await WriteCacheAsync(pieceCount: 3, finished: true, success: false);

        (await _detector.DetectAsync(_spec, CancellationToken.None)).Kind.Should().Be(CacheDecisionKind.Download);
    }

    [Fact]
    public async Task Trigger_FullHit_ReportsEveryPieceAndRecordsAccessTimeFromTheClock()
    {
        var pieces = await WriteCacheAsync(pieceCount: 3, finished: true);
        _cdn.Clock.Advance(TimeSpan.FromSeconds(90));

        var result = await _cdn.Mgr.TriggerAsync(_spec).WaitAsync(TimeSpan.FromSeconds(60));

        result.Should().Be(new CdnResult(true, 10485775, 10L * 1024 * 1024, Md5Hex.Of(_source), CacheHit: true));
        _cdn.Observer.Pieces.Select(p => p.Md5).Should().Equal(pieces);
        var meta = await new FileMetadataStore(_cdn.Store).ReadAsync(_spec.TaskId, CancellationToken.None);
        meta!.AccessTime.Should().Be(_cdn.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        meta.Interval.Should().Be(90_000);
    }

    [Fact]
    public void PieceMd5Store_FormatThenParse_RoundTripsAndRejectsTampering()
    {
        var pieces = new[] { new PieceMd5(new string('a', 32), Ps), new PieceMd5(new string('b', 32), 17) };
        var text = PieceMd5Store.Format(pieces, new string('c', 32));

        PieceMd5Store.Parse(text, new string('c', 32), 2).Should().Equal(pieces);
        PieceMd5Store.Parse(text, new string('d', 32), 2).Should().BeNull();
        PieceMd5Store.Parse(text, new string('c', 32), 3).Should().BeNull();
        PieceMd5Store.Parse(text.Replace("aaaa", "aaab", StringComparison.Ordinal), new string('c', 32), 2).Should().BeNull();
    }

    private async Task<List<PieceMd5>> WriteCacheAsync(int pieceCount, bool finished, bool success = true, bool validators = true, int tornBytes = 0)
    {
        var content = PieceLayout.ContentPerPiece(Ps);
        var pieces = new List<PieceMd5>();
        var buffer = new byte[Ps];
        long fileLength = 0;
        _cdn.Store.Truncate(_spec.TaskId, 0);
        for (var k = 0; k < pieceCount; k++)
        {
            var n = (int)Math.Min(content, _source.Length - ((long)k * content));
            var wrapped = PieceFrame.Wrap(_source.AsSpan(k * content, n), Ps, buffer);
            await _cdn.Store.WriteAsync(_spec.TaskId, (long)k * Ps, buffer.AsMemory(0, wrapped), CancellationToken.None);
            pieces.Add(new PieceMd5(Md5Hex.Of(buffer.AsSpan(0, wrapped)), wrapped));
            fileLength = ((long)k * Ps) + wrapped;
        }

        if (tornBytes > 0)
        {
            await _cdn.Store.WriteAsync(_spec.TaskId, fileLength, new byte[tornBytes], CancellationToken.None);
        }

        var realMd5 = Md5Hex.Of(_source);
        await new FileMetadataStore(_cdn.Store).WriteAsync(_spec.TaskId, new CdnFileMetadata
        {
            TaskId = _spec.TaskId.Value,
            Url = _spec.TaskUrl,
            PieceSize = Ps,
            HttpFileLength = _source.Length,
            BizId = "v1",
            AccessTime = _cdn.Clock.GetUtcNow().ToUnixTimeMilliseconds(),
            FileLength = finished ? fileLength : 0,
            RealMd5 = finished ? realMd5 : string.Empty,
            LastModified = validators ? new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).ToUnixTimeMilliseconds() : 0,
            ETag = validators ? "\"v1\"" : string.Empty,
            Finish = finished,
            Success = finished && success,
        }, CancellationToken.None);
        if (finished && success)
        {
            await new PieceMd5Store(_cdn.Store).WriteAsync(_spec.TaskId, pieces, realMd5, CancellationToken.None);
        }

        return pieces;
    }
}
