using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.TestCommon;
using Dragonfly.TestCommon.Fuzzing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

/// <summary>
/// Hostile requests of every kind dfdaemon answers (a blob pull taken over by P2P, other registry calls passed through,
/// its own endpoints, an absolute-URI proxy request, a CONNECT) on loopback connections to a real dfdaemon in front of a
/// real upstream: seeded edits of valid requests, and requests built from hostile parts (<see cref="ServerFuzz"/>). Each
/// is answered with a clear status or dropped, none meets an exception, nothing is left in the local repo, and a blob
/// still comes through P2P afterwards. A failure names the seed, the case and the request.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class HostileInputTests
{
    // What dfdaemon itself answers, and what the upstream's 200/404 become on the way through.
    private static readonly int[] Answers = [200, 400, 403, 404, 405, 408, 413, 414, 431, 502, 505];

    [Fact]
    public async Task SeededMutatedRequests_AreAnsweredOrDropped_LeaveNothingBehind_AndABlobStillComesThroughP2p()
    {
        await using var rig = await Rig.StartAsync();
        var authority = rig.Daemon.Address.Authority;
        string[] valid =
        [
            $"GET /v2/library/alpine/blobs/sha256:{rig.Digest} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer t\r\n\r\n",
            $"GET /v2/library/alpine/manifests/latest HTTP/1.1\r\nHost: {authority}\r\nAccept: application/vnd.oci.image.manifest.v1+json\r\n\r\n",
            $"HEAD /v2/ HTTP/1.1\r\nHost: {authority}\r\n\r\n",
            $"GET /_ping HTTP/1.1\r\nHost: {authority}\r\n\r\n",
            $"GET /debug/version HTTP/1.1\r\nHost: {authority}\r\n\r\n",
            $"GET http://{rig.Target}/file?x=1 HTTP/1.1\r\nHost: {rig.Target}\r\n\r\n",
            $"CONNECT {rig.Target} HTTP/1.1\r\nHost: {rig.Target}\r\n\r\n",
        ];
        var silent = 0;

        await Fuzzer.RunAsync(500, async c =>
        {
            var bytes = RequestMutations.Mutate(c.Random, Encoding.ASCII.GetBytes(c.Pick(valid)));
            c.SetInput(bytes);
            if (await RawHttpResponse.StatusOfEditedRequestAsync(rig.Daemon.Address.Port, bytes, TimeSpan.FromSeconds(2), c.CancellationToken) is { } status)
            {
                Answers.Should().Contain(status);
            }
            else
            {
                silent++;
            }
        });

        silent.Should().BeLessThan(FuzzSettings.Current.Cases(500) / 20, "nearly every edited request is answered; a server that hung would answer none");
        await rig.AssertCleanAndServingAsync();
    }

    [Fact]
    public async Task HostileRawRequests_NoServerErrorNothingLeftBehindAndABlobStillComesThroughP2p()
    {
        await using var rig = await Rig.StartAsync();
        var secrets = ServerJudges.PlantSecrets(rig.Daemon.Options.WorkHome);
        string[] paths =
        [
            $"/v2/library/alpine/blobs/sha256:{rig.Digest}", $"/v2/library/alpine/blobs/sha256:{new string('0', 64)}", "/v2/library/alpine/manifests/latest", "/v2/",
            "/_ping", "/debug/version", "/args", "/env", "/metrics", $"http://{rig.Target}/file?x=1", $"http://{rig.Target}/v2/x/blobs/sha256:{rig.Digest}",
            "http://127.0.0.1:1/x", $"https://{rig.Target}/", rig.Target, "127.0.0.1:1", $"/v2/library/alpine/blobs/sha256:{rig.Digest}%0a", "/v2/%2e%2e/%2e%2e/secret.txt",
        ];
        var fuzz = new ServerFuzz
        {
            Port = rig.Daemon.Address.Port,
            Requests = new HttpRequestFuzz(paths, ["Authorization: Bearer t", "Accept: application/vnd.oci.image.manifest.v1+json", "Accept-Encoding: gzip", $"Host: {rig.Target}"], rig.Daemon.Address.Authority),
            Valid = Encoding.ASCII.GetBytes($"GET /_ping HTTP/1.1\r\nHost: {rig.Daemon.Address.Authority}\r\n\r\n"),
            IsValidAnswer = a => a.Status == 200 && a.Body.AsSpan().SequenceEqual("OK"u8),
            Judge = ServerJudges.Dfdaemon,
            Secrets = secrets,
        };

        await fuzz.RunAsync(10);
        await fuzz.SlowClientsAsync(100, rig.Timeout.Token);
        await fuzz.CheckStillServesAsync(rig.Timeout.Token);

        await rig.AssertCleanAndServingAsync();
    }

    /// <summary>
    /// A dfdaemon in front of an upstream (the mirror's registry and the proxy's only allowed host) on a loopback address of
    /// its own, so an edited port in a CONNECT or an absolute URI reaches nothing, never another test's server on 127.0.0.1;
    /// P2P serves one blob, as the engine serves the blob its URL names (an edited digest names none, and goes direct).
    /// </summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly TestUpstream _upstream;

        private Rig(TestUpstream upstream, TestDfdaemon daemon, byte[] content, string digest)
        {
            _upstream = upstream;
            Daemon = daemon;
            Content = content;
            Digest = digest;
        }

        public CancellationTokenSource Timeout { get; } = new(TimeSpan.FromMinutes(5));

        public TestDfdaemon Daemon { get; }

        public byte[] Content { get; }

        public string Digest { get; }

        public string Target => $"127.0.0.3:{_upstream.Port}";

        public static async Task<Rig> StartAsync()
        {
            var content = new byte[100_000];
            new Random(7).NextBytes(content);
            var digest = Convert.ToHexStringLower(SHA256.HashData(content));
            var upstream = await TestUpstream.StartAsync(
                ctx =>
                {
                    ctx.Response.StatusCode = ctx.Request.Path.StartsWithSegments("/v2", StringComparison.Ordinal) ? 200 : 404;
                    return ctx.Response.WriteAsync("upstream", ctx.RequestAborted);
                },
                address: IPAddress.Parse("127.0.0.3"));
            var fetcher = new RecordingBlobFetcher(request => Task.FromResult<BlobFetchResult>(request.Sha256 == digest
                ? new BlobFetchResult.Started(content.Length, new MemoryStream(content))
                : new BlobFetchResult.Failed("no such blob in the swarm")));
            var daemon = await TestDfdaemon.StartAsync(
                o => o with { Proxies = [new ProxyRule(new Regex("^https?://127\\.0\\.0\\.3[:/]"), false, false, null)] },
                services: s => s.AddSingleton<IBlobFetcher>(fetcher),
                remote: upstream.Address);
            return new Rig(upstream, daemon, content, digest);
        }

        /// <summary>No exception was logged, nothing is left in the local repo, and a blob still comes through P2P.</summary>
        public async Task AssertCleanAndServingAsync()
        {
            Daemon.Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal))
                .Take(5).Should().BeEmpty("hostile input is refused with a status, never met with an exception");
            var leftBehind = Directory.Exists(Daemon.Options.LocalRepo) ? Directory.GetFiles(Daemon.Options.LocalRepo, "*", SearchOption.AllDirectories) : [];
            leftBehind.Should().BeEmpty("no request leaves a file in the local repo");
            using var client = Daemon.MirrorClient();
            (await client.GetByteArrayAsync(new Uri($"/v2/library/alpine/blobs/sha256:{Digest}", UriKind.Relative), Timeout.Token))
                .Should().Equal(Content, "a blob still comes through P2P after the barrage");
        }

        public async ValueTask DisposeAsync()
        {
            await Daemon.DisposeAsync();
            await _upstream.DisposeAsync();
            Timeout.Dispose();
        }
    }
}
