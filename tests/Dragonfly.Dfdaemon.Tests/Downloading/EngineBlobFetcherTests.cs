using System.IO.Pipelines;
using System.Net;
using Dragonfly.Common.Nodes;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Streaming;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfdaemon.Tests.Downloading;

public class EngineBlobFetcherTests
{
    private const string Digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private sealed class FakeStream(Func<PipeWriter, CancellationToken, Task> body, long length, bool success) : IBlobStream
    {
        public Task<long> Length { get; } = Task.FromResult(length);

        public Task<DownloadResult> Completion { get; } = Task.FromResult(new DownloadResult { Success = success, Message = success ? "ok" : "register fail", BackSourceReason = success ? 0 : 1001 });

        public bool Disposed { get; private set; }

        public Task CopyToAsync(Stream destination, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task CopyToAsync(PipeWriter destination, CancellationToken cancellationToken) => body(destination, cancellationToken);

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    private sealed class FakeStreamer(FakeStream stream) : IBlobStreamer
    {
        public DownloadRequest? Request { get; private set; }

        public StreamingOptions? Options { get; private set; }

        public IBlobStream Start(DownloadRequest request, StreamingOptions options, CancellationToken cancellationToken)
        {
            Request = request;
            Options = options;
            return stream;
        }
    }

    private static (EngineBlobFetcher Fetcher, FakeStreamer Streamer, DfdaemonOptions Options) Create(TempDirectory home, FakeStream stream)
    {
        var options = TestDfdaemon.DefaultOptions(home.Path) with { Supernodes = SupernodeList.Parse(["127.0.0.1:8002"]), PeerPort = 15001 };
        var streamer = new FakeStreamer(stream);
        return (new EngineBlobFetcher(streamer, options, new Dragonfly.Dfdaemon.Metrics.DfdaemonMetrics(), NullLogger<EngineBlobFetcher>.Instance), streamer, options);
    }

    private static BlobFetchRequest Request() => new(new Uri("http://reg.example/v2/x/blobs/sha256:" + Digest), ["Authorization: Bearer t"], Digest);

    [Fact]
    public async Task Fetch_FailsBeforeFirstByte_ReturnsFailedAndRemovesTempFile()
    {
        using var home = new TempDirectory();
        var stream = new FakeStream((_, _) => throw new BlobStreamException("download failed: register fail", new DownloadResult { Message = "register fail", BackSourceReason = 1001 }), -1, false);
        var (fetcher, _, options) = Create(home, stream);

        var result = await fetcher.FetchAsync(Request(), Timeout());

        result.Should().BeOfType<BlobFetchResult.Failed>().Which.Reason.Should().Contain("register fail");
        stream.Disposed.Should().BeTrue();
        Directory.EnumerateFiles(options.LocalRepo).Should().BeEmpty();
    }

    [Fact]
    public void BuildRequest_DfgetFlags_ReachTheEngineRequestWhileDfdaemonKeepsItsOwn()
    {
        using var home = new TempDirectory();
        var flags = DfgetFlagSet.Parse(
        [
            "-f", "Expires&Signature", "--header", "X-Team: ci", "--minrate", "1M", "-e", "2m", "-p", "cdn", "--ip", "10.9.8.7",
            "--port", "15500", "--expiretime", "7m", "--alivetime", "11m", "--clientqueue", "9", "--callsystem", "mirror",
            "-s", "1K", "--totallimit", "1K", "--verbose",
        ]);
        var stream = new FakeStream((_, _) => Task.CompletedTask, 0, true);
        var options = TestDfdaemon.DefaultOptions(home.Path) with { Supernodes = SupernodeList.Parse(["127.0.0.1:8002"]), DfgetFlags = flags };
        var fetcher = new EngineBlobFetcher(new FakeStreamer(stream), options, new DfdaemonMetrics(), NullLogger<EngineBlobFetcher>.Instance);

        var r = fetcher.BuildRequest(Request(), Path.Combine(options.LocalRepo, "x"));

        r.Filter.Should().Equal("Expires", "Signature");
        r.Headers.Should().Equal("X-Team: ci", "Authorization: Bearer t");
        r.MinRate.BytesPerSecond.Should().Be(1024 * 1024);
        r.Timeout.Should().Be(TimeSpan.FromMinutes(2));
        r.Pattern.Should().Be(DownloadPattern.Cdn);
        r.BindIp.Should().Be("10.9.8.7");
        r.Port.Should().Be(15500);
        r.ExpireTime.Should().Be(TimeSpan.FromMinutes(7));
        r.AliveTime.Should().Be(TimeSpan.FromMinutes(11));
        r.ClientQueue.Should().Be(9);
        r.CallSystem.Should().Be("mirror");
        r.Verbose.Should().BeTrue();
        r.LocalLimit.Should().Be(options.RateLimit, "dfdaemon's ratelimit wins over -s, as its own flags came last in the original");
        r.TotalLimit.Should().Be(options.RateLimit);
        r.NotBackSource.Should().BeTrue();
        r.Dfdaemon.Should().BeTrue();
        r.Nodes!.Nodes.Should().ContainSingle().Which.ToString().Should().Be("127.0.0.1:8002");
        r.Validate();
        fetcher.BuildRequest(Request() with { Sha256 = null }, Path.Combine(options.LocalRepo, "y")).CallerVerifiesContent
            .Should().BeFalse("a proxied file without a digest in its URL keeps the engine's whole-file md5");
    }

    [Fact]
    public void BuildRequest_HostIp_IsTheAdvertisedIpWhenNothingMoreSpecificIsSet()
    {
        using var home = new TempDirectory();
        var stream = new FakeStream((_, _) => Task.CompletedTask, 0, true);
        var options = TestDfdaemon.DefaultOptions(home.Path) with { Supernodes = SupernodeList.Parse(["127.0.0.1:8002"]), HostIp = "10.0.0.7" };
        var fetcher = new EngineBlobFetcher(new FakeStreamer(stream), options, new DfdaemonMetrics(), NullLogger<EngineBlobFetcher>.Instance);

        fetcher.BuildRequest(Request(), Path.Combine(options.LocalRepo, "x")).BindIp.Should().Be("10.0.0.7");
        var unset = new EngineBlobFetcher(new FakeStreamer(stream), options with { HostIp = null }, new DfdaemonMetrics(), NullLogger<EngineBlobFetcher>.Instance);
        unset.BuildRequest(Request(), Path.Combine(options.LocalRepo, "x")).BindIp.Should().BeNull("unset: the engine picks its route's local IP");
    }

    [Fact]
    public async Task Fetch_BytesArrive_StartedWithLengthAndEngineRequestAsDfdaemon()
    {
        using var home = new TempDirectory();
        var content = new byte[100_000];
        new Random(3).NextBytes(content);
        var stream = new FakeStream(async (w, ct) => { await w.WriteAsync(content, ct); }, content.Length, true);
        var (fetcher, streamer, options) = Create(home, stream);

        var result = await fetcher.FetchAsync(Request(), Timeout());

        var started = result.Should().BeOfType<BlobFetchResult.Started>().Subject;
        started.Length.Should().Be(content.Length);
        await using (started.Content)
        {
            var copy = new MemoryStream();
            await started.Content.CopyToAsync(copy, Timeout());
            copy.ToArray().Should().Equal(content);
        }

        stream.Disposed.Should().BeTrue();
        var r = streamer.Request!;
        r.NotBackSource.Should().BeTrue("dfdaemon falls back itself so the client sees the registry's answer");
        r.Dfdaemon.Should().BeTrue();
        r.Pattern.Should().Be(DownloadPattern.P2p);
        r.Headers.Should().Equal("Authorization: Bearer t");
        r.WorkHome.Root.Should().Be(options.EngineHome);
        r.Output.Should().StartWith(options.LocalRepo);
        r.LocalLimit.Should().Be(options.RateLimit);
        r.TotalLimit.Should().Be(options.RateLimit);
        r.Port.Should().Be(15001);
        streamer.Options!.Sha256.Should().BeNull("BlobResponder verifies the digest; the engine does not hash the blob a second time");
        r.CallerVerifiesContent.Should().BeTrue("the blob's sha256 is checked by BlobResponder, so the engine skips its whole-file md5");
    }

    [Fact]
    public async Task Fetch_FailsMidStream_ReadThrowsIOException()
    {
        using var home = new TempDirectory();
        var firstRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = new FakeStream(async (w, ct) =>
        {
            await w.WriteAsync(new byte[1000], ct);
            await w.FlushAsync(ct);
            await firstRead.Task.WaitAsync(ct);
            throw new BlobStreamException("sha256 mismatch");
        }, 5000, true);
        var (fetcher, _, _) = Create(home, stream);

        var started = (BlobFetchResult.Started)await fetcher.FetchAsync(Request(), Timeout());
        await using var content = started.Content;
        var buffer = new byte[1000];
        await content.ReadExactlyAsync(buffer, Timeout());
        firstRead.SetResult();
        var act = async () => await content.CopyToAsync(Stream.Null, Timeout());
        await act.Should().ThrowAsync<IOException>();
    }

    [Fact]
    public async Task Mirror_DeadSupernodeRealEngine_BlobComesDirectFromUpstream()
    {
        var content = new byte[50_000];
        new Random(5).NextBytes(content);
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
        await using var upstream = await TestUpstream.StartAsync(ctx => ctx.Response.Body.WriteAsync(content).AsTask());
        using var dfget = new TempDirectory();
        await using var daemon = await TestDfdaemon.StartAsync(
            o => o with { Supernodes = SupernodeList.Parse([$"127.0.0.1:{ExternalProcess.FreePort()}"]), DfPath = Path.Combine(dfget.Path, "no-dfget") },
            remote: upstream.Address);
        daemon.Services.GetRequiredService<IBlobFetcher>().Should().BeOfType<EngineBlobFetcher>();
        using var client = daemon.MirrorClient();

        using var response = await client.GetAsync($"/v2/x/blobs/sha256:{digest}", Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(content);
        var metrics = daemon.Services.GetRequiredService<DfdaemonMetrics>();
        metrics.BlobFallback.Should().Be(1);
        metrics.DirectBytes.Should().Be(content.Length);
        Directory.EnumerateFiles(daemon.Options.LocalRepo).Should().BeEmpty("the temp file of the failed P2P attempt is removed");
    }

    [Fact]
    public async Task Mirror_DeadSupernodeMissingBlob_Upstream404Unchanged()
    {
        await using var upstream = await TestUpstream.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 404;
            return ctx.Response.WriteAsync("{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}");
        });
        using var dfget = new TempDirectory();
        await using var daemon = await TestDfdaemon.StartAsync(
            o => o with { Supernodes = SupernodeList.Parse([$"127.0.0.1:{ExternalProcess.FreePort()}"]), DfPath = Path.Combine(dfget.Path, "no-dfget") },
            remote: upstream.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.GetAsync($"/v2/x/blobs/sha256:{Digest}", Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Contain("BLOB_UNKNOWN");
    }
}
