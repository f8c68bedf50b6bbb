using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Storage;
using Dragonfly.TestCommon;

namespace Dragonfly.Supernode.Tests.Cdn;

public sealed class CDNMgrTests : IAsyncLifetime
{
    private const int Ps = 4 * 1024 * 1024;
    private const long TenMiB = 10L * 1024 * 1024;
    private readonly TempDirectory _home = new("cdn-mgr-");
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private OriginServer _origin = null!;

    public async Task InitializeAsync() => _origin = await OriginServer.StartAsync(_timeout.Token);

    public async Task DisposeAsync()
    {
        await _origin.DisposeAsync();
        _timeout.Dispose();
        _home.Dispose();
    }

    [Fact]
    public async Task Trigger_ColdDownload_WritesDataMetaAndMd5Exactly()
    {
        var file = _origin.AddFile("/test.bin", TenMiB, seed: 7);
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/test.bin"), TenMiB);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeTrue(result.Error);
        result.CacheHit.Should().BeFalse();
        result.FileLength.Should().Be(10485775);
        result.SourceLength.Should().Be(TenMiB);
        result.RealMd5.Should().Be(file.Md5());
        (await cdn.Observer.Completed.WaitAsync(_timeout.Token)).Should().BeSameAs(result);

        var data = await File.ReadAllBytesAsync(cdn.Path(spec.TaskId));
        data.Length.Should().Be(10485775);
        var source = file.ReadAll();
        var expectedLines = new List<string>();
        for (var k = 0; k < 3; k++)
        {
            var wrapped = data.AsSpan(k * Ps, Math.Min(Ps, data.Length - (k * Ps)));
            PieceFrame.TryUnwrap(wrapped, out var content).Should().BeTrue();
            content.SequenceEqual(source.AsSpan((int)PieceLayout.SourceOffset(k, Ps), content.Length)).Should().BeTrue();
            expectedLines.Add($"{Md5Hex.Of(wrapped)}:{wrapped.Length}");
        }

        data.AsSpan(0, 4).ToArray().Should().Equal(0x04, 0x3f, 0xff, 0xfb);
        cdn.Observer.Pieces.Select(p => p.PieceNum).Should().Equal(0, 1, 2);
        cdn.Observer.Pieces.Select(p => p.Md5.ToString()).Should().Equal(expectedLines);
        cdn.Mgr.TryGetPieceMd5(spec.TaskId, 2, out var last).Should().BeTrue();
        last.ToString().Should().Be(expectedLines[2]);

        expectedLines.Add(file.Md5());
        expectedLines.Add(Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(string.Concat(expectedLines)))));
        (await File.ReadAllTextAsync(cdn.Path(spec.TaskId, ".md5"))).Should().Be(string.Join('\n', expectedLines));

        using var meta = JsonDocument.Parse(await File.ReadAllTextAsync(cdn.Path(spec.TaskId, ".meta")));
        var root = meta.RootElement;
        root.EnumerateObject().Select(p => p.Name).Should().Equal(
            "taskID", "url", "pieceSize", "httpFileLen", "bizId", "accessTime", "interval", "fileLength", "md5", "realMd5", "lastModified", "eTag", "finish", "success");
        root.GetProperty("taskID").GetString().Should().Be(spec.TaskId.Value);
        root.GetProperty("url").GetString().Should().Be(spec.TaskUrl);
        root.GetProperty("pieceSize").GetInt32().Should().Be(Ps);
        root.GetProperty("httpFileLen").GetInt64().Should().Be(TenMiB);
        root.GetProperty("accessTime").GetInt64().Should().Be(cdn.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        root.GetProperty("fileLength").GetInt64().Should().Be(10485775);
        root.GetProperty("realMd5").GetString().Should().Be(file.Md5());
        root.GetProperty("lastModified").GetInt64().Should().Be(file.LastModified.ToUnixTimeMilliseconds());
        root.GetProperty("eTag").GetString().Should().Be(file.ETag);
        root.GetProperty("finish").GetBoolean().Should().BeTrue();
        root.GetProperty("success").GetBoolean().Should().BeTrue();
        cdn.Mgr.DownloadPath(spec.TaskId, spec.TaskUrl).Should().Be($"/download/{spec.TaskId.Value[..3]}/{spec.TaskId.Value}");
    }

    [Fact]
    public async Task Trigger_SlowOrigin_ReportsPiecesBeforeTheCdnFinishes()
    {
        var file = _origin.AddFile("/slow.bin", TenMiB, seed: 3);
        file.HoldAfterBytes = Ps + 1000;
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/slow.bin"), TenMiB);

        var run = cdn.Mgr.TriggerAsync(spec);
        await cdn.Observer.FirstPiece.WaitAsync(_timeout.Token);

        run.IsCompleted.Should().BeFalse();
        cdn.Observer.Completed.IsCompleted.Should().BeFalse();
        cdn.Observer.Pieces.Single().PieceNum.Should().Be(0);
        var view = await cdn.Mgr.GetViewAsync(spec.TaskId, _timeout.Token);
        view.Should().Be(new CdnFileView(Ps, false));
        (await cdn.Mgr.VerifyPieceAsync(spec.TaskId, 0, _timeout.Token)).Should().Be(CdnPieceCheck.Good);

        file.Release();
        var result = await run.WaitAsync(_timeout.Token);
        result.Success.Should().BeTrue(result.Error);
        result.RealMd5.Should().Be(file.Md5());
        (await cdn.Mgr.GetViewAsync(spec.TaskId, _timeout.Token)).Should().Be(new CdnFileView(10485775, true));
    }

    [Fact]
    public async Task Trigger_TwiceWhileRunning_JoinsTheRunningDownload()
    {
        var file = _origin.AddFile("/join.bin", TenMiB);
        file.HoldAfterBytes = 1000;
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/join.bin"), TenMiB);

        var first = cdn.Mgr.TriggerAsync(spec);
        var second = cdn.Mgr.TriggerAsync(spec);
        second.Should().BeSameAs(first);
        file.Release();

        (await first.WaitAsync(_timeout.Token)).Success.Should().BeTrue();
        _origin.Requests.Count(r => r.Method == "GET" && r.Status == 200).Should().Be(1);
        cdn.Observer.Completions.Should().HaveCount(1);
    }

    [Fact]
    public async Task Trigger_RestartOnSameHome_FullCacheHitVia304WithoutBodyBytes()
    {
        var file = _origin.AddFile("/test.bin", TenMiB, seed: 9);
        var spec = CdnTestHarness.Spec(_origin.Url("/test.bin"), TenMiB);
        List<string> coldPieces;
        using (var cold = new CdnTestHarness(_home.Path))
        {
            (await cold.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token)).Success.Should().BeTrue();
            coldPieces = cold.Observer.Pieces.Select(p => p.Md5.ToString()).ToList();
        }

        _origin.ResetCounters();
        using var restarted = new CdnTestHarness(_home.Path);
        restarted.Clock.Advance(TimeSpan.FromMinutes(5));
        var result = await restarted.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Should().Be(new CdnResult(true, 10485775, TenMiB, file.Md5(), CacheHit: true));
        _origin.BodyBytesServed.Should().Be(0);
        var request = _origin.Requests.Should().ContainSingle().Subject;
        request.Status.Should().Be(304);
        request.IfNoneMatch.Should().Be(file.ETag);
        request.IfModifiedSince.Should().Be("Fri, 02 Jan 2026 03:04:05 GMT");
        restarted.Observer.Pieces.Select(p => p.Md5.ToString()).Should().Equal(coldPieces);
        (await restarted.Mgr.GetViewAsync(spec.TaskId, _timeout.Token)).Should().Be(new CdnFileView(10485775, true));

        using var meta = JsonDocument.Parse(await File.ReadAllTextAsync(restarted.Path(spec.TaskId, ".meta")));
        meta.RootElement.GetProperty("accessTime").GetInt64().Should().Be(restarted.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        meta.RootElement.GetProperty("interval").GetInt64().Should().Be((long)TimeSpan.FromMinutes(5).TotalMilliseconds);
    }

    [Fact]
    public async Task Trigger_SourceChangedAfterRestart_DownloadsAgain()
    {
        var file = _origin.AddFile("/test.bin", TenMiB, seed: 1);
        var spec = CdnTestHarness.Spec(_origin.Url("/test.bin"), TenMiB);
        using (var cold = new CdnTestHarness(_home.Path))
        {
            (await cold.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token)).Success.Should().BeTrue();
        }

        var oldMd5 = file.Md5();
        file.Change(seed: 2);
        _origin.ResetCounters();
        using var restarted = new CdnTestHarness(_home.Path);
        var result = await restarted.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeTrue(result.Error);
        result.CacheHit.Should().BeFalse();
        result.RealMd5.Should().Be(file.Md5()).And.NotBe(oldMd5);
        _origin.Requests.First().Status.Should().Be(200, "the conditional GET did not answer 304");
        _origin.Requests.Should().Contain(r => r.Range == string.Empty && r.IfNoneMatch == string.Empty && r.Status == 200);
        (await File.ReadAllTextAsync(restarted.Path(spec.TaskId, ".md5"))).Split('\n')[3].Should().Be(file.Md5());
    }

    [Fact]
    public async Task Trigger_AfterCrashMidDownload_FetchesOnlyTheRemainingRange()
    {
        var file = _origin.AddFile("/resume.bin", TenMiB, seed: 5);
        var content = PieceLayout.ContentPerPiece(Ps);
        file.HoldAfterBytes = (2L * content) + 12345;
        var spec = CdnTestHarness.Spec(_origin.Url("/resume.bin"), TenMiB);
        await CrashAfterPiecesAsync(spec, pieces: 2);
        file.HoldAfterBytes = null;

        using (var meta = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_home.Path, "repo", "download", spec.TaskId.Shard, spec.TaskId.Value + ".meta"))))
        {
            meta.RootElement.GetProperty("finish").GetBoolean().Should().BeFalse("a broken source stream leaves the cache resumable");
        }

        _origin.ResetCounters();
        using var second = new CdnTestHarness(_home.Path);
        var result = await second.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeTrue(result.Error);
        result.RealMd5.Should().Be(file.Md5());
        var resume = _origin.Requests.Should().ContainSingle(r => r.Range.Length > 0).Subject;
        resume.Range.Should().Be($"bytes={2L * content}-{TenMiB - 1}");
        resume.Status.Should().Be(206);
        _origin.BodyBytesServed.Should().Be(TenMiB - (2L * content));
        second.Observer.Pieces.Select(p => p.PieceNum).Should().Equal(0, 1, 2);
        (await File.ReadAllTextAsync(second.Path(spec.TaskId, ".md5"))).Split('\n').Should().HaveCount(5);
    }

    [Fact]
    public async Task Trigger_ResumeButSourceIgnoresRange_DownloadsFromTheStart()
    {
        var file = _origin.AddFile("/norange.bin", TenMiB, seed: 8);
        file.HoldAfterBytes = PieceLayout.ContentPerPiece(Ps) + 10;
        var spec = CdnTestHarness.Spec(_origin.Url("/norange.bin"), TenMiB);
        await CrashAfterPiecesAsync(spec, pieces: 1);
        file.HoldAfterBytes = null;
        file.SupportsRange = false;
        _origin.ResetCounters();
        using var second = new CdnTestHarness(_home.Path);
        var result = await second.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeTrue(result.Error);
        result.RealMd5.Should().Be(file.Md5());
        _origin.BodyBytesServed.Should().Be(TenMiB);
        second.Observer.Pieces.Select(p => p.PieceNum).Should().Equal(0, 1, 2);
    }

    [Fact]
    public async Task Trigger_SourceStreamBreaks_FailsButStaysResumable()
    {
        var file = _origin.AddFile("/broken.bin", TenMiB, seed: 12);
        file.AbortAfterBytes = 1024 * 1024;
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/broken.bin"), TenMiB);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeFalse();
        File.Exists(cdn.Path(spec.TaskId, ".md5")).Should().BeFalse();
        if (File.Exists(cdn.Path(spec.TaskId, ".meta")))
        {
            // Depending on how much arrived before the reset, the metadata may not have been written at all.
            using var meta = JsonDocument.Parse(await File.ReadAllTextAsync(cdn.Path(spec.TaskId, ".meta")));
            meta.RootElement.GetProperty("finish").GetBoolean().Should().BeFalse();
        }

        (await cdn.Mgr.GetViewAsync(spec.TaskId, _timeout.Token)).Should().BeNull();
    }

    [Fact]
    public async Task Trigger_OriginGoesSilentMidBody_FailsAfterTheIdleTimeoutAndTheNextRunResumes()
    {
        var file = _origin.AddFile("/stall.bin", TenMiB, seed: 12);
        var content = PieceLayout.ContentPerPiece(Ps);
        file.HoldAfterBytes = content + 100;
        var spec = CdnTestHarness.Spec(_origin.Url("/stall.bin"), TenMiB);
        using (var stalled = new CdnTestHarness(_home.Path, configure: o => o.SourceIdleTimeout = TimeSpan.FromMilliseconds(300)))
        {
            var result = await stalled.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

            result.Success.Should().BeFalse();
            result.Error.Should().Contain("sent nothing");
            stalled.Observer.Pieces.Select(p => p.PieceNum).Should().Equal(0);
            (await stalled.Observer.Completed.WaitAsync(_timeout.Token)).Success.Should().BeFalse("the task's pulls learn that the CDN failed");
        }

        using (var meta = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_home.Path, "repo", "download", spec.TaskId.Shard, spec.TaskId.Value + ".meta"))))
        {
            meta.RootElement.GetProperty("finish").GetBoolean().Should().BeFalse("a stalled source is an ordinary, resumable source fault");
        }

        file.HoldAfterBytes = null;
        file.Release();
        _origin.ResetCounters();
        using var second = new CdnTestHarness(_home.Path);
        var resumed = await second.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        resumed.Success.Should().BeTrue(resumed.Error);
        resumed.RealMd5.Should().Be(file.Md5());
        _origin.Requests.Should().ContainSingle(r => r.Range.Length > 0).Which.Range.Should().Be($"bytes={content}-{TenMiB - 1}");
    }

    [Fact]
    public async Task Trigger_OriginNeverSendsHeaders_FailsAfterTheHeadersTimeout()
    {
        using var cdn = new CdnTestHarness(_home.Path, new SilentOriginClient(), o => o.SourceHeadersTimeout = TimeSpan.FromMilliseconds(300));
        var spec = CdnTestHarness.Spec(new Uri("http://127.0.0.1:1/silent.bin"), TenMiB);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeFalse();
        result.Error.Should().Contain("no response headers");
        (await cdn.Observer.Completed.WaitAsync(_timeout.Token)).Success.Should().BeFalse();
    }

    /// <summary>An origin that accepts every GET and never answers it (until the caller gives up).</summary>
    private sealed class SilentOriginClient : IOriginClient
    {
        public Task<OriginProbe> ProbeAsync(OriginRequest request, CancellationToken cancellationToken) =>
            Task.FromResult(new OriginProbe(OriginProbeStatus.Ok, TenMiB, 200));

        public Task<bool> SupportsRangeAsync(OriginRequest request, CancellationToken cancellationToken) => Task.FromResult(true);

        public async Task<HttpResponseMessage> GetAsync(OriginRequest request, IReadOnlyDictionary<string, string>? extraHeaders, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    /// <summary>Starts a run on a fresh CDNMgr, waits until <paramref name="pieces"/> are on disk, then "crashes" it.</summary>
    private async Task CrashAfterPiecesAsync(CdnTaskSpec spec, int pieces)
    {
        using var first = new CdnTestHarness(_home.Path);
        var run = first.Mgr.TriggerAsync(spec);
        while (first.Observer.Pieces.Count < pieces)
        {
            await Task.Delay(10, _timeout.Token);
        }

        first.Mgr.Dispose();
        (await run.WaitAsync(_timeout.Token)).Error.Should().Be("canceled");
        first.Observer.Pieces.Select(p => p.PieceNum).Should().Equal(Enumerable.Range(0, pieces));
    }

    [Fact]
    public async Task Trigger_Source404_FailsWithoutMd5File()
    {
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/missing.bin"), -1);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeFalse();
        result.Error.Should().Contain("404");
        File.Exists(cdn.Path(spec.TaskId, ".md5")).Should().BeFalse();
        (await cdn.Mgr.GetViewAsync(spec.TaskId, _timeout.Token)).Should().BeNull();
        (await cdn.Observer.Completed.WaitAsync(_timeout.Token)).Success.Should().BeFalse();
    }

    [Fact]
    public async Task Trigger_Source401_FailsWithoutCredentialsAndSucceedsWithAuthorizationPassedThrough()
    {
        var file = _origin.AddFile("/private.bin", 1000, seed: 4);
        file.RequireBasicAuth("alice", "s3cret");
        var auth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret"));
        using var cdn = new CdnTestHarness(_home.Path);

        var denied = await cdn.Mgr.TriggerAsync(CdnTestHarness.Spec(_origin.Url("/private.bin"), 1000)).WaitAsync(_timeout.Token);
        denied.Success.Should().BeFalse();
        denied.Error.Should().Contain("401");

        var spec = CdnTestHarness.Spec(_origin.Url("/private.bin"), 1000, identifier: "with-auth", headers: new Dictionary<string, string> { ["Authorization"] = auth });
        var allowed = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);
        allowed.Success.Should().BeTrue(allowed.Error);
        allowed.RealMd5.Should().Be(file.Md5());
        _origin.Requests.Where(r => r.Status == 200).Should().OnlyContain(r => r.Authorization == auth);
    }

    [Fact]
    public async Task Trigger_EmptyFile_WritesTheFiveByteCdnFile()
    {
        _origin.AddFile("/empty.bin", 0);
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/empty.bin"), 0);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Should().Be(new CdnResult(true, 5, 0, "d41d8cd98f00b204e9800998ecf8427e", CacheHit: false));
        (await File.ReadAllBytesAsync(cdn.Path(spec.TaskId))).Should().Equal(0x04, 0x00, 0x00, 0x00, 0x7f);
        cdn.Observer.Pieces.Should().ContainSingle().Which.Md5.WrappedLength.Should().Be(5);
    }

    [Fact]
    public async Task Trigger_UnknownLengthWithoutContentLength_StillSucceeds()
    {
        var file = _origin.AddFile("/chunked.bin", 5_000_000, seed: 11);
        file.SendContentLength = false;
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/chunked.bin"), -1);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeTrue(result.Error);
        result.FileLength.Should().Be(5_000_010);
        var data = await File.ReadAllBytesAsync(cdn.Path(spec.TaskId));
        data.AsSpan(Ps, 4).ToArray().Should().Equal(0x04, 0x0c, 0x4b, 0x45);
    }

    [Fact]
    public async Task Trigger_FileLargerThan200MiB_StreamsInFourMiBPieces()
    {
        const long length = 210L * 1024 * 1024;
        var file = _origin.AddFile("/big.bin", length, seed: 21);
        PieceLayout.PieceSizeFor(length).Should().Be(Ps);
        PieceLayout.PieceSizeFor(300L * 1024 * 1024).Should().Be(5 * 1024 * 1024);
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/big.bin"), length);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeTrue(result.Error);
        var pieces = PieceLayout.PieceCount(length, Ps);
        result.FileLength.Should().Be(length + (5L * pieces));
        result.RealMd5.Should().Be(file.Md5());
        cdn.Observer.Pieces.Should().HaveCount(pieces);
        new FileInfo(cdn.Path(spec.TaskId)).Length.Should().Be(result.FileLength);
    }

    [Fact]
    public async Task Trigger_UserMd5Mismatch_FailsAndWritesNoMd5File()
    {
        _origin.AddFile("/test.bin", 100_000);
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/test.bin"), 100_000, md5: new string('a', 32));

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeFalse();
        result.Error.Should().Contain("md5");
        File.Exists(cdn.Path(spec.TaskId, ".md5")).Should().BeFalse();
        using var meta = JsonDocument.Parse(await File.ReadAllTextAsync(cdn.Path(spec.TaskId, ".meta")));
        meta.RootElement.GetProperty("finish").GetBoolean().Should().BeTrue();
        meta.RootElement.GetProperty("success").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task Trigger_KnownLengthDiffersFromDownload_Fails()
    {
        _origin.AddFile("/test.bin", 100_000);
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/test.bin"), 99_999);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeFalse();
        result.Error.Should().Contain("length");
        File.Exists(cdn.Path(spec.TaskId, ".md5")).Should().BeFalse();
    }

    [Fact]
    public async Task Trigger_DiskFullWhileWriting_FailsTheTaskCleanly()
    {
        _origin.AddFile("/test.bin", TenMiB);
        using var cdn = new CdnTestHarness(_home.Path, wrapStore: inner => new FullDiskPieceStore(inner, failAfterWrites: 1));
        var spec = CdnTestHarness.Spec(_origin.Url("/test.bin"), TenMiB);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeFalse();
        result.Error.Should().Contain("No space left");
        File.Exists(cdn.Path(spec.TaskId, ".md5")).Should().BeFalse();
        using var meta = JsonDocument.Parse(await File.ReadAllTextAsync(cdn.Path(spec.TaskId, ".meta")));
        meta.RootElement.GetProperty("finish").GetBoolean().Should().BeTrue();
        meta.RootElement.GetProperty("success").GetBoolean().Should().BeFalse();
        (await cdn.Observer.Completed.WaitAsync(_timeout.Token)).Success.Should().BeFalse();
    }

    [Fact]
    public async Task Trigger_DataFileDeletedMidRun_FailsWithoutASparseFileAndTheNextRunStartsOver()
    {
        var file = _origin.AddFile("/gone.bin", TenMiB, seed: 9);
        using var cdn = new CdnTestHarness(_home.Path, wrapStore: inner => new DeletingPieceStore(inner, deleteBeforeOffset: Ps));
        var spec = CdnTestHarness.Spec(_origin.Url("/gone.bin"), TenMiB);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeFalse();
        result.Error.Should().Contain("disappeared while the CDN was writing it");
        File.Exists(cdn.Path(spec.TaskId)).Should().BeFalse("a later piece must not create the deleted file again with holes");
        File.Exists(cdn.Path(spec.TaskId, ".md5")).Should().BeFalse();
        File.Exists(cdn.Path(spec.TaskId, ".meta")).Should().BeFalse();
        (await cdn.Observer.Completed.WaitAsync(_timeout.Token)).Success.Should().BeFalse();
        (await cdn.Mgr.GetViewAsync(spec.TaskId, _timeout.Token)).Should().BeNull();

        cdn.Observer = new RecordingCdnObserver();
        var again = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        again.Success.Should().BeTrue(again.Error);
        again.RealMd5.Should().Be(file.Md5());
        (await File.ReadAllBytesAsync(cdn.Path(spec.TaskId))).Length.Should().Be(10485775);
    }

    [Fact]
    public async Task Trigger_DataFileDeletedAfterTheLastWrite_FailsInsteadOfReportingAFileThatIsGone()
    {
        _origin.AddFile("/late.bin", TenMiB, seed: 10);
        using var cdn = new CdnTestHarness(_home.Path, wrapStore: inner => new DeletingPieceStore(inner, deleteAfterWrites: 3));
        var spec = CdnTestHarness.Spec(_origin.Url("/late.bin"), TenMiB);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeFalse();
        result.Error.Should().Contain("disappeared while the CDN was writing it");
        File.Exists(cdn.Path(spec.TaskId, ".md5")).Should().BeFalse();
        File.Exists(cdn.Path(spec.TaskId, ".meta")).Should().BeFalse();
    }

    [Fact]
    public async Task Trigger_LaterPieceWrittenFirst_IsReportedAndServedOnlyAfterTheEarlierOne()
    {
        var file = _origin.AddFile("/order.bin", TenMiB, seed: 5);
        HeldFirstPieceStore? held = null;
        using var cdn = new CdnTestHarness(_home.Path, wrapStore: inner => held = new HeldFirstPieceStore(inner));
        var spec = CdnTestHarness.Spec(_origin.Url("/order.bin"), TenMiB);

        var run = cdn.Mgr.TriggerAsync(spec);
        while (Volatile.Read(ref held!.LaterWrites) == 0)
        {
            await Task.Delay(10, _timeout.Token);
        }

        // Piece 1 is being (or has been) written while piece 0 is held: nothing may be reported or served yet.
        await Task.Delay(100, _timeout.Token);
        cdn.Observer.Pieces.Should().BeEmpty();
        (await cdn.Mgr.GetViewAsync(spec.TaskId, _timeout.Token)).Should().Be(new CdnFileView(0, false));

        held.Release();
        var result = await run.WaitAsync(_timeout.Token);
        result.Success.Should().BeTrue(result.Error);
        result.RealMd5.Should().Be(file.Md5());
        cdn.Observer.Pieces.Select(p => p.PieceNum).Should().Equal(0, 1, 2);
        (await cdn.Mgr.GetViewAsync(spec.TaskId, _timeout.Token)).Should().Be(new CdnFileView(10485775, true));
    }

    [Fact]
    public async Task VerifyPieceAsync_CorruptedPiece_ReportsOnlyThatPieceBad()
    {
        _origin.AddFile("/test.bin", TenMiB);
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/test.bin"), TenMiB);
        (await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token)).Success.Should().BeTrue();

        await using (var stream = new FileStream(cdn.Path(spec.TaskId), FileMode.Open, FileAccess.Write))
        {
            stream.Position = Ps + 100;
            stream.WriteByte(0xAA);
        }

        (await cdn.Mgr.VerifyPieceAsync(spec.TaskId, 0, _timeout.Token)).Should().Be(CdnPieceCheck.Good);
        (await cdn.Mgr.VerifyPieceAsync(spec.TaskId, 1, _timeout.Token)).Should().Be(CdnPieceCheck.Bad);
        (await cdn.Mgr.VerifyPieceAsync(spec.TaskId, 2, _timeout.Token)).Should().Be(CdnPieceCheck.Good);

        // After a restart the recorded md5s come from the .md5 file.
        using var restarted = new CdnTestHarness(_home.Path);
        (await restarted.Mgr.VerifyPieceAsync(spec.TaskId, 0, _timeout.Token)).Should().Be(CdnPieceCheck.Good);
        (await restarted.Mgr.VerifyPieceAsync(spec.TaskId, 1, _timeout.Token)).Should().Be(CdnPieceCheck.Bad);
    }

    [Fact]
    public async Task VerifyPieceAsync_PieceNotWrittenYetOrBeyondTheFile_IsUnknown()
    {
        var file = _origin.AddFile("/unknown.bin", TenMiB, seed: 4);
        file.HoldAfterBytes = Ps + 1000;
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/unknown.bin"), TenMiB);

        var run = cdn.Mgr.TriggerAsync(spec);
        await cdn.Observer.FirstPiece.WaitAsync(_timeout.Token);
        (await cdn.Mgr.VerifyPieceAsync(spec.TaskId, 0, _timeout.Token)).Should().Be(CdnPieceCheck.Good);
        (await cdn.Mgr.VerifyPieceAsync(spec.TaskId, 2, _timeout.Token)).Should().Be(CdnPieceCheck.Unknown, "the CDN has not written it yet");
        (await cdn.Mgr.VerifyPieceAsync(spec.TaskId, 100, _timeout.Token)).Should().Be(CdnPieceCheck.Unknown);

        file.Release();
        (await run.WaitAsync(_timeout.Token)).Success.Should().BeTrue();
        (await cdn.Mgr.VerifyPieceAsync(spec.TaskId, 3, _timeout.Token)).Should().Be(CdnPieceCheck.Unknown, "the file has 3 pieces");
        using (var restarted = new CdnTestHarness(_home.Path))
        {
            (await restarted.Mgr.VerifyPieceAsync(spec.TaskId, 100, _timeout.Token)).Should().Be(CdnPieceCheck.Unknown);
            (await restarted.Mgr.VerifyPieceAsync(spec.TaskId, 2, _timeout.Token)).Should().Be(CdnPieceCheck.Good);
        }

        File.Exists(cdn.Path(spec.TaskId)).Should().BeTrue();
    }

    [Fact]
    public async Task VerifyPieceAsync_DataFileGone_RecordedPieceIsBad()
    {
        _origin.AddFile("/gone.bin", TenMiB, seed: 6);
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/gone.bin"), TenMiB);
        (await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token)).Success.Should().BeTrue();

        File.Delete(cdn.Path(spec.TaskId));

        (await cdn.Mgr.VerifyPieceAsync(spec.TaskId, 1, _timeout.Token)).Should().Be(CdnPieceCheck.Bad);
        (await cdn.Mgr.VerifyPieceAsync(spec.TaskId, 3, _timeout.Token)).Should().Be(CdnPieceCheck.Unknown, "there is no piece 3 to be missing");
        using var restarted = new CdnTestHarness(_home.Path);
        (await restarted.Mgr.VerifyPieceAsync(spec.TaskId, 1, _timeout.Token)).Should().Be(CdnPieceCheck.Bad);
    }

    [Fact]
    public async Task DeleteAsync_WithFiles_ForgetsTheTaskAndRemovesItsFiles()
    {
        _origin.AddFile("/test.bin", 1000);
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/test.bin"), 1000);
        (await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token)).Success.Should().BeTrue();
        cdn.Mgr.IsInMemory(spec.TaskId).Should().BeTrue();

        await cdn.Mgr.DeleteAsync(spec.TaskId, deleteFiles: false, _timeout.Token);
        cdn.Mgr.IsInMemory(spec.TaskId).Should().BeFalse();
        File.Exists(cdn.Path(spec.TaskId)).Should().BeTrue();

        await cdn.Mgr.DeleteAsync(spec.TaskId, deleteFiles: true, _timeout.Token);
        File.Exists(cdn.Path(spec.TaskId)).Should().BeFalse();
        File.Exists(cdn.Path(spec.TaskId, ".meta")).Should().BeFalse();
        File.Exists(cdn.Path(spec.TaskId, ".md5")).Should().BeFalse();
        cdn.Mgr.TryGetPieceMd5(spec.TaskId, 0, out _).Should().BeFalse();
    }

    [Fact]
    public async Task DeleteAsync_WhileDownloading_CancelsTheRun()
    {
        var file = _origin.AddFile("/held.bin", TenMiB);
        file.HoldAfterBytes = 10;
        using var cdn = new CdnTestHarness(_home.Path);
        var spec = CdnTestHarness.Spec(_origin.Url("/held.bin"), TenMiB);
        var run = cdn.Mgr.TriggerAsync(spec);
        while (!_origin.Requests.Any() && _origin.BodyBytesServed == 0)
        {
            await Task.Delay(10, _timeout.Token);
        }

        await cdn.Mgr.DeleteAsync(spec.TaskId, deleteFiles: true, _timeout.Token);

        (await run.WaitAsync(_timeout.Token)).Error.Should().Be("canceled");
        File.Exists(cdn.Path(spec.TaskId, ".md5")).Should().BeFalse();
    }

    [Fact]
    public async Task Trigger_SourcePattern_ReportsAllPiecesAtOnceAndCachesNothing()
    {
        _origin.AddFile("/src.bin", TenMiB);
        using var cdn = new CdnTestHarness(_home.Path, configure: o => o.CdnPattern = CdnPattern.Source);
        var spec = CdnTestHarness.Spec(_origin.Url("/src.bin"), TenMiB);

        var result = await cdn.Mgr.TriggerAsync(spec).WaitAsync(_timeout.Token);

        result.Success.Should().BeTrue(result.Error);
        result.FileLength.Should().Be(TenMiB);
        cdn.Observer.Pieces.Select(p => p.Md5.WrappedLength).Should().Equal(Ps, Ps, (int)(TenMiB - (2L * Ps)));
        cdn.Observer.Pieces.Should().OnlyContain(p => p.Md5.Md5.Length == 0);
        File.Exists(cdn.Path(spec.TaskId)).Should().BeFalse();
        _origin.BodyBytesServed.Should().BeLessThanOrEqualTo(1, "only the Range probe touches the body");
        cdn.Mgr.DownloadPath(spec.TaskId, "http://example.com/src.bin?x=1").Should().Be("http://example.com/src.bin?x=1");

        var unknown = await cdn.Mgr.TriggerAsync(CdnTestHarness.Spec(_origin.Url("/src.bin"), -1, identifier: "u")).WaitAsync(_timeout.Token);
        unknown.Success.Should().BeFalse();
        unknown.Error.Should().Contain("known source length");
    }
}

/// <summary>Fails every write after the first <c>failAfterWrites</c> with ENOSPC, like a full disk.</summary>
/// <summary>An <see cref="IPieceStore"/> that forwards everything to another; tests override the data writes.</summary>
internal class DelegatingPieceStore(IPieceStore inner) : IPieceStore
{
    public string DataPath(Common.Ids.TaskId taskId) => inner.DataPath(taskId);

    public virtual ValueTask WriteAsync(Common.Ids.TaskId taskId, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        inner.WriteAsync(taskId, offset, data, cancellationToken);

    public ValueTask<int> ReadAsync(Common.Ids.TaskId taskId, long offset, Memory<byte> buffer, CancellationToken cancellationToken) => inner.ReadAsync(taskId, offset, buffer, cancellationToken);

    public Microsoft.Win32.SafeHandles.SafeFileHandle? OpenRead(Common.Ids.TaskId taskId) => inner.OpenRead(taskId);

    public long Length(Common.Ids.TaskId taskId) => inner.Length(taskId);

    public bool Exists(Common.Ids.TaskId taskId) => inner.Exists(taskId);

    public void Truncate(Common.Ids.TaskId taskId, long length) => inner.Truncate(taskId, length);

    public Task<string?> ReadTextAsync(Common.Ids.TaskId taskId, string suffix, CancellationToken cancellationToken) => inner.ReadTextAsync(taskId, suffix, cancellationToken);

    public Task WriteTextAsync(Common.Ids.TaskId taskId, string suffix, string content, CancellationToken cancellationToken) => inner.WriteTextAsync(taskId, suffix, content, cancellationToken);

    public void DeleteSide(Common.Ids.TaskId taskId, string suffix) => inner.DeleteSide(taskId, suffix);

    public void Delete(Common.Ids.TaskId taskId) => inner.Delete(taskId);

    public IEnumerable<Common.Ids.TaskId> EnumerateTasks() => inner.EnumerateTasks();

    public long AvailableFreeSpace() => inner.AvailableFreeSpace();
}

internal sealed class FullDiskPieceStore(IPieceStore inner, int failAfterWrites) : DelegatingPieceStore(inner)
{
    private int _writes;

    public override ValueTask WriteAsync(Common.Ids.TaskId taskId, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Interlocked.Increment(ref _writes) > failAfterWrites
            ? throw new IOException("No space left on device")
            : base.WriteAsync(taskId, offset, data, cancellationToken);
}

/// <summary>
/// Deletes the task's data file (as disk GC or an operator would) just before the write at
/// <c>deleteBeforeOffset</c>, or just after the <c>deleteAfterWrites</c>-th write has completed; once.
/// </summary>
internal sealed class DeletingPieceStore(IPieceStore inner, long deleteBeforeOffset = -1, int deleteAfterWrites = -1) : DelegatingPieceStore(inner)
{
    private int _writes;
    private int _deleted;

    public override async ValueTask WriteAsync(Common.Ids.TaskId taskId, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (offset == deleteBeforeOffset)
        {
            DeleteOnce(taskId);
        }

        await base.WriteAsync(taskId, offset, data, cancellationToken);
        if (Interlocked.Increment(ref _writes) == deleteAfterWrites)
        {
            DeleteOnce(taskId);
        }
    }

    private void DeleteOnce(Common.Ids.TaskId taskId)
    {
        if (Interlocked.Exchange(ref _deleted, 1) == 0)
        {
            File.Delete(DataPath(taskId));
        }
    }
}

/// <summary>Holds the write at offset 0 (piece 0) until released; every other write goes through at once.</summary>
internal sealed class HeldFirstPieceStore(IPieceStore inner) : DelegatingPieceStore(inner)
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int LaterWrites;

    public void Release() => _release.TrySetResult();

    public override async ValueTask WriteAsync(Common.Ids.TaskId taskId, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (offset == 0)
        {
            await _release.Task.WaitAsync(cancellationToken);
        }
        else
        {
            Interlocked.Increment(ref LaterWrites);
        }

        await base.WriteAsync(taskId, offset, data, cancellationToken);
    }
}
