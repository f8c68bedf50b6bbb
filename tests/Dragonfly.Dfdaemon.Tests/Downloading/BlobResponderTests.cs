using System.Net;
using System.Security.Cryptography;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfdaemon.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Downloading;

/// <summary>Blob GETs in mirror mode: P2P streaming with digest verification, and the direct fallback before the first byte.</summary>
public class BlobResponderTests
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static (byte[] Content, string Digest) Blob(int size = 300_000)
    {
        var content = new byte[size];
        new Random(7).NextBytes(content);
        return (content, Convert.ToHexStringLower(SHA256.HashData(content)));
    }

    private static Task<TestDfdaemon> StartAsync(IBlobFetcher fetcher, Uri remote) =>
        TestDfdaemon.StartAsync(services: s => s.AddSingleton(fetcher), remote: remote);

    /// <summary>A registry that lets every client read every blob (HEAD 200) and fails any other request (which must not come).</summary>
    private static Task<TestUpstream> OpenRegistryAsync() => TestUpstream.StartAsync(ctx =>
    {
        ctx.Response.StatusCode = HttpMethods.IsHead(ctx.Request.Method) ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError;
        return Task.CompletedTask;
    });

    [Fact]
    public async Task Blob_P2pSucceeds_StreamsContentWithLengthAndCountsP2pBytes()
    {
        var (content, digest) = Blob();
        var upstreamGets = 0;
        string? checkedWith = null;
        await using var upstream = await TestUpstream.StartAsync(ctx =>
        {
            if (HttpMethods.IsHead(ctx.Request.Method))
            {
                checkedWith = ctx.Request.Headers.Authorization;
            }
            else
            {
                Interlocked.Increment(ref upstreamGets);
            }

            return Task.CompletedTask;
        });
        var fetcher = RecordingBlobFetcher.Serving(content);
        await using var daemon = await StartAsync(fetcher, upstream.Address);
        using var client = daemon.MirrorClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/library/busybox/blobs/sha256:{digest}?ns=docker.io");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "tok");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");

        using var response = await client.SendAsync(request, Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentLength.Should().Be(content.Length);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(content);
        upstreamGets.Should().Be(0);
        checkedWith.Should().Be("Bearer tok", "the registry is asked whether this client may read the blob");
        var sent = fetcher.Requests.Should().ContainSingle().Subject;
        sent.Url.Should().Be(new Uri($"{upstream.Address.GetLeftPart(UriPartial.Authority)}/v2/library/busybox/blobs/sha256:{digest}"));
        sent.Sha256.Should().Be(digest);
        sent.Headers.Should().Contain("Authorization: Bearer tok");
        sent.Headers.Should().NotContain(h => h.StartsWith("Host:") || h.StartsWith("Accept-Encoding:"));
        var metrics = daemon.Services.GetRequiredService<DfdaemonMetrics>();
        metrics.P2pBytes.Should().Be(content.Length);
        metrics.BlobP2p.Should().Be(1);
    }

    [Fact]
    public async Task Blob_PiecesStillArriving_ClientReceivesFirstBytesEarly()
    {
        // The responder writes one chunk behind what it has read: with 2½ chunks available, the first chunk must reach
        // the client while the fetcher still holds the rest back.
        const int chunk = BlobResponder.ChunkSize;
        var (content, digest) = Blob(4 * chunk);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registry = await OpenRegistryAsync();
        await using var daemon = await StartAsync(RecordingBlobFetcher.Serving(content, gate, firstPart: (2 * chunk) + (chunk / 2)), registry.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.GetAsync($"/v2/x/blobs/sha256:{digest}", HttpCompletionOption.ResponseHeadersRead, Timeout());
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[chunk];
        await body.ReadExactlyAsync(first, Timeout());
        first.Should().Equal(content.AsSpan(0, chunk).ToArray());
        gate.SetResult();
        var rest = new MemoryStream();
        await body.CopyToAsync(rest, Timeout());
        rest.ToArray().Should().Equal(content.AsSpan(chunk).ToArray());
    }

    [Fact]
    public async Task Blob_DigestMismatch_ConnectionAbortedNeverCompletes()
    {
        var (content, _) = Blob();
        var (_, otherDigest) = Blob(10);
        await using var registry = await OpenRegistryAsync();
        await using var daemon = await StartAsync(RecordingBlobFetcher.Serving(content), registry.Address);
        using var client = daemon.MirrorClient();

        var act = async () =>
        {
            using var response = await client.GetAsync($"/v2/x/blobs/sha256:{otherDigest}", Timeout());
            await response.Content.ReadAsByteArrayAsync();
        };

        await act.Should().ThrowAsync<HttpRequestException>();
        daemon.Services.GetRequiredService<DfdaemonMetrics>().BlobDigestMismatch.Should().Be(1);
    }

    [Fact]
    public async Task Blob_FetcherYieldsMoreThanItsLength_ConnectionAborted()
    {
        var (content, digest) = Blob();
        var fetcher = new RecordingBlobFetcher(_ => Task.FromResult<BlobFetchResult>(new BlobFetchResult.Started(content.Length - 1000, new MemoryStream(content))));
        await using var registry = await OpenRegistryAsync();
        await using var daemon = await StartAsync(fetcher, registry.Address);
        using var client = daemon.MirrorClient();

        var act = async () =>
        {
            using var response = await client.GetAsync($"/v2/x/blobs/sha256:{digest}", Timeout());
            await response.Content.ReadAsByteArrayAsync();
        };

        await act.Should().ThrowAsync<HttpRequestException>();
    }

    [Theory]
    [InlineData(404, null)]
    [InlineData(401, "Bearer realm=\"http://auth.example/token\",service=\"reg\"")]
    public async Task Blob_P2pFailsBeforeFirstByte_UpstreamStatusAndBodyUnchanged(int status, string? challenge)
    {
        var (_, digest) = Blob();
        string? authSeen = null;
        await using var upstream = await TestUpstream.StartAsync(ctx =>
        {
            authSeen = ctx.Request.Headers.Authorization;
            if (HttpMethods.IsHead(ctx.Request.Method))
            {
                return Task.CompletedTask; // the access check: this client may read the blob
            }

            ctx.Response.StatusCode = status;
            if (challenge is not null)
            {
                ctx.Response.Headers.WWWAuthenticate = challenge;
            }

            return ctx.Response.WriteAsync("{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}");
        });
        await using var daemon = await StartAsync(RecordingBlobFetcher.Failing(), upstream.Address);
        using var client = daemon.MirrorClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/x/blobs/sha256:{digest}");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer t1");

        using var response = await client.SendAsync(request, Timeout());

        ((int)response.StatusCode).Should().Be(status);
        (await response.Content.ReadAsStringAsync()).Should().Be("{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}");
        if (challenge is not null)
        {
            response.Headers.WwwAuthenticate.ToString().Should().Be(challenge);
        }

        authSeen.Should().Be("Bearer t1");
        daemon.Services.GetRequiredService<DfdaemonMetrics>().BlobFallback.Should().Be(1);
    }

    [Fact]
    public async Task Blob_FetcherThrows_FallsBackToUpstream()
    {
        var (content, digest) = Blob();
        await using var upstream = await TestUpstream.StartAsync(ctx => ctx.Response.Body.WriteAsync(content).AsTask());
        await using var daemon = await StartAsync(RecordingBlobFetcher.Throwing(), upstream.Address);
        using var client = daemon.MirrorClient();

        (await client.GetByteArrayAsync($"/v2/x/blobs/sha256:{digest}", Timeout())).Should().Equal(content);
        daemon.Services.GetRequiredService<DfdaemonMetrics>().DirectBytes.Should().Be(content.Length);
    }

    [Fact]
    public async Task Blob_NoSupernodeConfigured_GoesDirect()
    {
        var (content, digest) = Blob();
        await using var upstream = await TestUpstream.StartAsync(ctx => ctx.Response.Body.WriteAsync(content).AsTask());
        await using var daemon = await TestDfdaemon.StartAsync(remote: upstream.Address);
        using var client = daemon.MirrorClient();

        (await client.GetByteArrayAsync($"/v2/x/blobs/sha256:{digest}", Timeout())).Should().Equal(content);
    }

    [Fact]
    public async Task Blob_RangeRequest_GoesDirect()
    {
        var (_, digest) = Blob();
        string? range = null;
        await using var upstream = await TestUpstream.StartAsync(ctx =>
        {
            range = ctx.Request.Headers.Range;
            ctx.Response.StatusCode = 206;
            return ctx.Response.WriteAsync("part");
        });
        var fetcher = RecordingBlobFetcher.Failing();
        await using var daemon = await StartAsync(fetcher, upstream.Address);
        using var client = daemon.MirrorClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/x/blobs/sha256:{digest}");
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 20);

        using var response = await client.SendAsync(request, Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        range.Should().Be("bytes=10-20");
        fetcher.Requests.Should().BeEmpty();
    }
}
