using System.Net;
using System.Text.RegularExpressions;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

/// <summary>HTTP-proxy mode over real sockets: absolute-URI requests through dfdaemon as the client's proxy.</summary>
public class ProxyModeTests
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static ProxyRule Rule(string regx, bool useHttps = false, bool direct = false, string? redirect = null) =>
        new(new Regex(regx), useHttps, direct, redirect);

    private static Task<TestUpstream> Echo(List<string> log) => TestUpstream.StartAsync(ctx =>
    {
        lock (log)
        {
            log.Add($"{ctx.Request.Method} {ctx.Request.Scheme}://{ctx.Request.Host}{ctx.Request.Path}");
        }

        return ctx.Response.WriteAsync("origin:" + ctx.Request.Path);
    });

    [Fact]
    public async Task Proxy_DirectRule_ForwardsWithoutP2p()
    {
        var log = new List<string>();
        await using var upstream = await Echo(log);
        var fetcher = RecordingBlobFetcher.Failing();
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { Proxies = [Rule("/direct/", direct: true), Rule(".*")] }, s => s.AddSingleton<IBlobFetcher>(fetcher), upstream.Address);
        using var client = daemon.ProxyClient();

        (await client.GetStringAsync($"{upstream.Address}direct/a", Timeout())).Should().Be("origin:/direct/a");
        fetcher.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Proxy_MatchingGet_GoesThroughP2p()
    {
        var log = new List<string>();
        await using var upstream = await Echo(log);
        var content = "p2p bytes"u8.ToArray();
        var fetcher = RecordingBlobFetcher.Serving(content);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { Proxies = [Rule("/files/")] }, s => s.AddSingleton<IBlobFetcher>(fetcher), upstream.Address);
        using var client = daemon.ProxyClient();

        (await client.GetByteArrayAsync($"{upstream.Address}files/f.bin", Timeout())).Should().Equal(content);
        fetcher.Requests.Should().ContainSingle().Which.Url.Should().Be(new Uri($"{upstream.Address}files/f.bin"));
        log.Should().BeEmpty("a rule-matched URL that is not a registry API blob carries its own credential: the origin is not asked");
    }

    [Fact]
    public async Task Proxy_MatchingPost_ForwardsDirect()
    {
        var log = new List<string>();
        await using var upstream = await Echo(log);
        var fetcher = RecordingBlobFetcher.Failing();
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { Proxies = [Rule("/files/")] }, s => s.AddSingleton<IBlobFetcher>(fetcher), upstream.Address);
        using var client = daemon.ProxyClient();

        using var response = await client.PostAsync($"{upstream.Address}files/f.bin", new StringContent("x"), Timeout());
        (await response.Content.ReadAsStringAsync()).Should().Be("origin:/files/f.bin");
        fetcher.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Proxy_RedirectRule_RewritesHost()
    {
        var log = new List<string>();
        await using var upstream = await Echo(log);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { Proxies = [Rule("old\\.invalid", direct: true, redirect: $"127.0.0.1:{upstream.Port}")] });
        using var client = daemon.ProxyClient();

        (await client.GetStringAsync("http://old.invalid/moved", Timeout())).Should().Be("origin:/moved");
        log.Should().Equal($"GET http://127.0.0.1:{upstream.Port}/moved");
    }

    [Fact]
    public async Task Proxy_UseHttpsRule_RewritesSchemeToHttpsUpstream()
    {
        var log = new List<string>();
        using var cert = TestCertificates.SelfSignedLoopback();
        await using var upstream = await TestUpstream.StartAsync(ctx =>
        {
            log.Add(ctx.Request.Scheme);
            return ctx.Response.WriteAsync("secure");
        }, cert);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with
        {
            Proxies = [Rule("127\\.0\\.0\\.1", useHttps: true, direct: true)],
            RegistryMirror = new RegistryMirrorOptions { Remote = new Uri($"https://127.0.0.1:{upstream.Port}"), Insecure = true },
        });
        using var client = daemon.ProxyClient();

        (await client.GetStringAsync($"http://127.0.0.1:{upstream.Port}/x", Timeout())).Should().Be("secure");
        log.Should().Equal("https");
    }

    [Fact]
    public async Task Proxy_NoMatchingRule_Forbidden()
    {
        var log = new List<string>();
        await using var upstream = await Echo(log);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { Proxies = [Rule("only-this\\.example")] }, remote: new Uri("https://mirror.invalid"));
        using var client = daemon.ProxyClient();

        using var response = await client.GetAsync($"{upstream.Address}a", Timeout());
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        log.Should().BeEmpty("dfdaemon is not an open proxy by default");
    }

    [Fact]
    public async Task Proxy_AbsoluteUriWithBadUserInfo_ForbiddenNotAServerError()
    {
        var log = new List<string>();
        await using var upstream = await Echo(log);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { OpenProxy = true, Proxies = [Rule("blobs/sha256.*")] }, s => s.AddSingleton<IBlobFetcher>(RecordingBlobFetcher.Failing()));
        var request = System.Text.Encoding.ASCII.GetBytes($"GET http://:%@127.0.0.1:{upstream.Port}/v2/x/blobs/sha256:0123 HTTP/1.1\r\nHost: 127.0.0.1:{upstream.Port}");

        var status = await Dragonfly.TestCommon.RawHttpResponse.StatusOfEditedRequestAsync(daemon.Address.Port, request, TimeSpan.FromSeconds(30), Timeout());

        status.Should().Be(403, "a URL with user information is refused; rewriting it for the rule threw, and the client got a 500");
        log.Should().BeEmpty();
    }

    [Theory]
    [InlineData("echo?x=blobs/sha256")]
    [InlineData("v2/x/blobs/sha256:0123")]
    public async Task Proxy_RuleMatchesButHostOutsidePolicy_ForbiddenNeitherFetchedNorForwarded(string pathAndQuery)
    {
        var log = new List<string>();
        await using var upstream = await Echo(log);
        var fetcher = RecordingBlobFetcher.Failing();
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { Proxies = [Rule("blobs/sha256.*")] }, s => s.AddSingleton<IBlobFetcher>(fetcher));
        using var client = daemon.ProxyClient();

        using var response = await client.GetAsync($"{upstream.Address}{pathAndQuery}", Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden, "a proxies rule chooses P2P or direct; it never lets a host in");
        fetcher.Requests.Should().BeEmpty();
        log.Should().BeEmpty();
    }

    [Fact]
    public async Task Proxy_MirrorHostOnAnotherPort_Forbidden()
    {
        var log = new List<string>();
        await using var upstream = await Echo(log);
        await using var daemon = await TestDfdaemon.StartAsync(remote: new Uri("http://127.0.0.1:1"));
        using var client = daemon.ProxyClient();

        using var response = await client.GetAsync($"{upstream.Address}a", Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden, "the mirror is 127.0.0.1:1, not every port of 127.0.0.1");
        log.Should().BeEmpty();
    }

    [Fact]
    public async Task Proxy_AbsoluteUriNamingDfdaemonItself_ServedLocallyNotLooped()
    {
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { OpenProxy = true, Proxies = [Rule(".*")] });
        using var client = daemon.ProxyClient();

        (await client.GetStringAsync($"http://127.0.0.1:{daemon.Address.Port}/_ping", Timeout())).Should().Be("OK");
        daemon.Services.GetRequiredService<Dragonfly.Dfdaemon.Metrics.DfdaemonMetrics>().Forwarded.Should().Be(0, "no hop to itself");
    }

    [Fact]
    public async Task Proxy_NoMatchingRuleOpenProxy_ForwardsDirect()
    {
        var log = new List<string>();
        await using var upstream = await Echo(log);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { OpenProxy = true });
        using var client = daemon.ProxyClient();

        (await client.GetStringAsync($"{upstream.Address}a", Timeout())).Should().Be("origin:/a");
    }
}
