using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfdaemon.Registry;
using Dragonfly.Dfdaemon.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Registry;

/// <summary>
/// A blob is served from the shared P2P cache only to a client the registry lets read it. The fake registry is real Kestrel on
/// loopback and wants <c>Authorization: Bearer good</c>; the P2P side is a fetcher that serves the blob to whoever asks, as
/// the supernode's cache does once any authorised client has pulled it.
/// </summary>
public class BlobAccessCheckTests
{
    private const string Challenge = "Bearer realm=\"http://auth.example/token\",service=\"reg\",scope=\"repository:private/app:pull\"";
    private const string DeniedBody = "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}";

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static (byte[] Content, string Digest) Blob()
    {
        var content = new byte[200_000];
        new Random(5).NextBytes(content);
        return (content, Convert.ToHexStringLower(SHA256.HashData(content)));
    }

    [Fact]
    public async Task Blob_ClientWithToken_RegistryAskedWithItsTokenThenServedThroughP2p()
    {
        var (content, digest) = Blob();
        await using var registry = await FakeRegistry.StartAsync();
        var fetcher = RecordingBlobFetcher.Serving(content);
        await using var daemon = await StartAsync(fetcher, registry.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.SendAsync(Get(digest, "Bearer good"), Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(content);
        fetcher.Requests.Should().ContainSingle();
        registry.Seen.Should().Equal($"HEAD /v2/private/app/blobs/sha256:{digest} Bearer good");
        var metrics = daemon.Services.GetRequiredService<DfdaemonMetrics>();
        metrics.BlobP2p.Should().Be(1);
        metrics.BlobAccessRefused.Should().Be(0);
    }

    [Theory]
    [InlineData(null, 401)]
    [InlineData("Bearer stolen", 403)]
    [InlineData("Bearer other-repo", 404)]
    public async Task Blob_AfterAnAuthorisedPull_ClientTheRegistryRefuses_GetsTheRegistrysAnswerNeverTheCachedBlob(string? authorization, int status)
    {
        var (content, digest) = Blob();
        await using var registry = await FakeRegistry.StartAsync();
        var fetcher = RecordingBlobFetcher.Serving(content);
        await using var daemon = await StartAsync(fetcher, registry.Address);
        using var client = daemon.MirrorClient();
        using (var first = await client.SendAsync(Get(digest, "Bearer good"), Timeout()))
        {
            (await first.Content.ReadAsByteArrayAsync()).Should().Equal(content, "an authorised client fills the P2P cache");
        }

        using var response = await client.SendAsync(Get(digest, authorization), Timeout());

        ((int)response.StatusCode).Should().Be(status);
        (await response.Content.ReadAsStringAsync()).Should().Be(DeniedBody, "the registry's own answer, body included");
        if (status == 401)
        {
            response.Headers.WwwAuthenticate.ToString().Should().Be(Challenge, "docker needs the challenge to fetch a token");
        }

        fetcher.Requests.Should().ContainSingle("the refused client never reaches the P2P fetcher");
        var metrics = daemon.Services.GetRequiredService<DfdaemonMetrics>();
        metrics.BlobP2p.Should().Be(1);
        metrics.BlobAccessRefused.Should().Be(1);
        metrics.P2pBytes.Should().Be(content.Length);
    }

    [Fact]
    public async Task Blob_ClientWithoutToken_401WithChallengeAndFetcherNeverCalled()
    {
        var (content, digest) = Blob();
        await using var registry = await FakeRegistry.StartAsync();
        var fetcher = RecordingBlobFetcher.Serving(content);
        await using var daemon = await StartAsync(fetcher, registry.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.SendAsync(Get(digest, authorization: null), Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Be(Challenge);
        (await response.Content.ReadAsStringAsync()).Should().Be(DeniedBody);
        fetcher.Requests.Should().BeEmpty();
        registry.Seen.Should().Equal($"HEAD /v2/private/app/blobs/sha256:{digest} -", $"GET /v2/private/app/blobs/sha256:{digest} -");
    }

    [Fact]
    public async Task Blob_HeadAnsweredWith307ToStorage_TreatedAsAllowed()
    {
        var (content, digest) = Blob();
        await using var registry = await FakeRegistry.StartAsync(redirectAuthorised: true);
        var fetcher = RecordingBlobFetcher.Serving(content);
        await using var daemon = await StartAsync(fetcher, registry.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.SendAsync(Get(digest, "Bearer good"), Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.OK, "a registry answers an allowed blob HEAD with a redirect to its storage");
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(content);
        fetcher.Requests.Should().ContainSingle();
        registry.Seen.Should().ContainSingle().Which.Should().StartWith("HEAD ", "the redirect is not followed: 307 is the answer");
    }

    [Fact]
    public async Task Blob_VerifyBlobAccessOff_NoQuestionAndP2pServesAnyClient()
    {
        var (content, digest) = Blob();
        await using var registry = await FakeRegistry.StartAsync();
        var fetcher = RecordingBlobFetcher.Serving(content);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { VerifyBlobAccess = false }, s => s.AddSingleton<IBlobFetcher>(fetcher), registry.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.SendAsync(Get(digest, authorization: null), Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.OK, "switched off, the original's behaviour: whoever names a cached blob gets it");
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(content);
        registry.Seen.Should().BeEmpty();
        fetcher.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task Blob_NoSupernodeConfigured_NoQuestionAndTheGetGoesStraightToTheRegistry()
    {
        // Without supernodes nothing comes from the shared cache: a HEAD per blob would only add a round trip.
        var (_, digest) = Blob();
        await using var registry = await FakeRegistry.StartAsync();
        await using var daemon = await StartAsync(new DisabledBlobFetcher(), registry.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.SendAsync(Get(digest, authorization: null), Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the registry's answer to the client's own GET");
        registry.Seen.Should().Equal($"GET /v2/private/app/blobs/sha256:{digest} -");
        daemon.Services.GetRequiredService<DfdaemonMetrics>().BlobAccessRefused.Should().Be(0);
    }

    [Fact]
    public async Task Blob_StorageUrlSignedInItsQuery_NotAskedAndServedThroughP2p()
    {
        var (content, digest) = Blob();
        await using var registry = await FakeRegistry.StartAsync();
        var fetcher = RecordingBlobFetcher.Serving(content);
        await using var daemon = await StartAsync(fetcher, registry.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.SendAsync(
            new HttpRequestMessage(HttpMethod.Get, $"/docker/registry/v2/blobs/sha256/{digest[..2]}/{digest}/data?sig=abc"), Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.OK, "the URL's signature is its credential; a HEAD would be refused by a GET-only signature");
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(content);
        registry.Seen.Should().BeEmpty();
        fetcher.Requests.Should().ContainSingle();
    }

    [Theory]
    [InlineData("https://reg.example/v2/a/blobs/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("https://reg.example/v2/a/blobs/sha256%3A0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("https://s3.example/docker/registry/v2/blobs/sha256/01/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/data", false)]
    public void NamesARegistryBlob_OnlyTheRegistryApiForm(string url, bool expected) =>
        BlobAccessCheck.NamesARegistryBlob(new Uri(url)).Should().Be(expected);

    [Fact]
    public async Task Blob_RegistryUnreachable_NotServedFromP2p()
    {
        var (content, digest) = Blob();
        var fetcher = RecordingBlobFetcher.Serving(content);
        await using var daemon = await StartAsync(fetcher, new Uri("http://127.0.0.1:1"));
        using var client = daemon.MirrorClient();

        using var response = await client.SendAsync(Get(digest, "Bearer good"), Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway, "who may read the blob is unknown, so the cache stays closed");
        fetcher.Requests.Should().BeEmpty();
    }

    [Fact]
    public void BuildHead_CarriesTheClientsCredentialsButNotHostRangeOrHopByHop()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Headers.Host = "127.0.0.1:65001";
        context.Request.Headers.Authorization = "Bearer good";
        context.Request.Headers.Cookie = "session=1";
        context.Request.Headers.Range = "bytes=0-9";
        context.Request.Headers.Connection = "keep-alive, X-Hop";
        context.Request.Headers["X-Hop"] = "1";
        context.Request.Headers.Accept = "application/octet-stream";

        using var head = BlobAccessCheck.BuildHead(context.Request, new Uri("https://reg.example/v2/a/blobs/sha256:00"));

        head.Method.Should().Be(HttpMethod.Head);
        head.RequestUri.Should().Be(new Uri("https://reg.example/v2/a/blobs/sha256:00"));
        head.Headers.Authorization!.ToString().Should().Be("Bearer good");
        head.Headers.GetValues("Cookie").Should().Equal("session=1");
        head.Headers.Accept.ToString().Should().Be("application/octet-stream");
        head.Headers.Contains("Range").Should().BeFalse();
        head.Headers.Contains("X-Hop").Should().BeFalse();
        head.Headers.Host.Should().BeNull();
        head.Content.Should().BeNull();
    }

    private static Task<TestDfdaemon> StartAsync(IBlobFetcher fetcher, Uri remote) =>
        TestDfdaemon.StartAsync(services: s => s.AddSingleton(fetcher), remote: remote);

    private static HttpRequestMessage Get(string digest, string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/private/app/blobs/sha256:{digest}");
        if (authorization is not null)
        {
            request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }

        return request;
    }

    /// <summary>
    /// A private registry: <c>Bearer good</c> may read every blob (200, or a 307 to storage); <c>Bearer stolen</c> gets 403,
    /// <c>Bearer other-repo</c> 404, no token 401 with the challenge. Records <c>"METHOD path authorization"</c> per request.
    /// </summary>
    private sealed class FakeRegistry : IAsyncDisposable
    {
        private readonly TestUpstream _server;

        private FakeRegistry(TestUpstream server, ConcurrentQueue<string> seen)
        {
            _server = server;
            SeenQueue = seen;
        }

        public Uri Address => _server.Address;

        public IReadOnlyList<string> Seen => [.. SeenQueue];

        private ConcurrentQueue<string> SeenQueue { get; }

        public static async Task<FakeRegistry> StartAsync(bool redirectAuthorised = false)
        {
            var seen = new ConcurrentQueue<string>();
            var server = await TestUpstream.StartAsync(async ctx =>
            {
                var authorization = ctx.Request.Headers.Authorization.ToString();
                seen.Enqueue($"{ctx.Request.Method} {ctx.Request.Path} {(authorization.Length == 0 ? "-" : authorization)}");
                switch (authorization)
                {
                    case "Bearer good" when redirectAuthorised:
                        ctx.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                        ctx.Response.Headers.Location = "http://127.0.0.1:1/storage/blob?sig=abc";
                        return;
                    case "Bearer good":
                        ctx.Response.ContentLength = 200_000;
                        ctx.Response.StatusCode = StatusCodes.Status200OK;
                        return;
                    case "Bearer stolen":
                        ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
                        break;
                    case "Bearer other-repo":
                        ctx.Response.StatusCode = StatusCodes.Status404NotFound;
                        break;
                    default:
                        ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        ctx.Response.Headers.WWWAuthenticate = Challenge;
                        break;
                }

                ctx.Response.ContentType = "application/json";
                ctx.Response.ContentLength = DeniedBody.Length;
                if (!HttpMethods.IsHead(ctx.Request.Method))
                {
                    await ctx.Response.WriteAsync(DeniedBody);
                }
            });
            return new FakeRegistry(server, seen);
        }

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }
}
