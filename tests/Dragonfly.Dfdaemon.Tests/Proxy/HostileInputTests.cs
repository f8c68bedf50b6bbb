using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

/// <summary>
/// Seeded random edits of every kind of request dfdaemon answers (a blob pull taken over by P2P, other registry calls
/// passed through, its own endpoints, an absolute-URI proxy request, a CONNECT), each on its own loopback connection to a
/// real dfdaemon in front of a real upstream. Each is answered with a clear status or dropped, none meets an exception,
/// nothing is left in the local repo, and a blob still comes through P2P afterwards. A failure names the seed and the
/// request.
/// </summary>
public sealed class HostileInputTests
{
    private const int Seed = 20261122;
    private const int Connections = 500;

    // What dfdaemon itself answers, and what the upstream's 200/404 become on the way through.
    private static readonly int[] Answers = [200, 400, 403, 404, 405, 408, 413, 414, 431, 502, 505];

    [Fact]
    public async Task SeededMutatedRequests_AreAnsweredOrDropped_LeaveNothingBehind_AndABlobStillComesThroughP2p()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var random = new Random(Seed);
        var content = new byte[100_000];
        random.NextBytes(content);
        var digest = Convert.ToHexStringLower(SHA256.HashData(content));
        // The upstream (the mirror's registry and the proxy's only allowed host) listens on a loopback address of its own:
        // an edited port in a CONNECT or an absolute URI then reaches nothing, never another test's server on 127.0.0.1.
        await using var upstream = await TestUpstream.StartAsync(
            ctx =>
            {
                ctx.Response.StatusCode = ctx.Request.Path.StartsWithSegments("/v2", StringComparison.Ordinal) ? 200 : 404;
                return ctx.Response.WriteAsync("upstream", ctx.RequestAborted);
            },
            address: IPAddress.Parse("127.0.0.3"));
        // As the engine does, the fetcher serves the blob its URL names: an edited digest names none, and goes direct.
        var fetcher = new RecordingBlobFetcher(request => Task.FromResult<Dragonfly.Dfdaemon.Downloading.BlobFetchResult>(request.Sha256 == digest
            ? new Dragonfly.Dfdaemon.Downloading.BlobFetchResult.Started(content.Length, new MemoryStream(content))
            : new Dragonfly.Dfdaemon.Downloading.BlobFetchResult.Failed("no such blob in the swarm")));
        await using var daemon = await TestDfdaemon.StartAsync(
            o => o with { Proxies = [new ProxyRule(new Regex("^https?://127\\.0\\.0\\.3[:/]"), false, false, null)] },
            services: s => s.AddSingleton<Dragonfly.Dfdaemon.Downloading.IBlobFetcher>(fetcher),
            remote: upstream.Address);
        var target = $"127.0.0.3:{upstream.Port}";
        string[] valid =
        [
            $"GET /v2/library/alpine/blobs/sha256:{digest} HTTP/1.1\r\nHost: {daemon.Address.Authority}\r\nAuthorization: Bearer t\r\n\r\n",
            $"GET /v2/library/alpine/manifests/latest HTTP/1.1\r\nHost: {daemon.Address.Authority}\r\nAccept: application/vnd.oci.image.manifest.v1+json\r\n\r\n",
            $"HEAD /v2/ HTTP/1.1\r\nHost: {daemon.Address.Authority}\r\n\r\n",
            $"GET /_ping HTTP/1.1\r\nHost: {daemon.Address.Authority}\r\n\r\n",
            $"GET /debug/version HTTP/1.1\r\nHost: {daemon.Address.Authority}\r\n\r\n",
            $"GET http://{target}/file?x=1 HTTP/1.1\r\nHost: {target}\r\n\r\n",
            $"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n",
        ];
        var silent = 0;

        for (var i = 0; i < Connections; i++)
        {
            var bytes = RequestMutations.Mutate(random, Encoding.ASCII.GetBytes(valid[random.Next(valid.Length)]));
            var what = $"seed {Seed}, connection {i}: {Convert.ToBase64String(bytes)}";
            if (await RawHttpResponse.StatusOfEditedRequestAsync(daemon.Address.Port, bytes, TimeSpan.FromSeconds(2), timeout.Token) is { } status)
            {
                Answers.Should().Contain(status, what);
            }
            else
            {
                silent++;
            }
        }

        silent.Should().BeLessThan(Connections / 20, "nearly every edited request is answered; a server that hung would answer none");

        daemon.Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal))
            .Take(5).Should().BeEmpty("hostile input is refused with a status, never met with an exception");
        var leftBehind = Directory.Exists(daemon.Options.LocalRepo) ? Directory.GetFiles(daemon.Options.LocalRepo, "*", SearchOption.AllDirectories) : [];
        leftBehind.Should().BeEmpty("no request leaves a file in the local repo");
        using var client = daemon.MirrorClient();
        (await client.GetByteArrayAsync(new Uri($"/v2/library/alpine/blobs/sha256:{digest}", UriKind.Relative), timeout.Token))
            .Should().Equal(content, "a blob still comes through P2P after the barrage");
    }
}
