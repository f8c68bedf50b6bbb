using System.Text.RegularExpressions;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Proxy;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

public class ProxyRouterTests
{
    private const string Digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static ProxyRouter Router(bool open = false, bool direct = false, params ProxyRule[] rules) => new(new DfdaemonOptions
    {
        WorkHome = "/tmp/h",
        LocalRepo = "/tmp/h/r",
        RegistryMirror = new RegistryMirrorOptions { Remote = new Uri("https://registry.example:5000/"), Direct = direct },
        Proxies = rules,
        OpenProxy = open,
        HijackHttps = new HijackHttpsOptions("c", "k", [new HijackHost(new Regex("^hijack\\.example$"), false, [])]),
    });

    private static ProxyRule Rule(string regx, bool useHttps = false, bool direct = false, string? redirect = null) => new(new Regex(regx), useHttps, direct, redirect);

    [Fact]
    public void DecideMirror_BlobGet_IsP2pWithDigest()
    {
        var d = Router().DecideMirror("GET", "/v2/library/busybox/blobs/sha256:" + Digest + "?ns=docker.io");
        d.Kind.Should().Be(RouteKind.P2p);
        d.Sha256.Should().Be(Digest);
        d.Target.Should().Be(new Uri("https://registry.example:5000/v2/library/busybox/blobs/sha256:" + Digest));
    }

    [Theory]
    [InlineData("HEAD", "/v2/x/blobs/sha256:" + Digest)]
    [InlineData("GET", "/v2/x/manifests/latest")]
    [InlineData("GET", "/v2/")]
    [InlineData("POST", "/v2/x/blobs/uploads/")]
    public void DecideMirror_NonBlobOrNonGet_Forwards(string method, string path) =>
        Router().DecideMirror(method, path).Kind.Should().Be(RouteKind.Forward);

    [Fact]
    public void DecideMirror_MirrorDirect_ForwardsBlobs() =>
        Router(direct: true).DecideMirror("GET", "/v2/x/blobs/sha256:" + Digest).Kind.Should().Be(RouteKind.Forward);

    [Fact]
    public void DecideMirror_Query_KeepsOtherParametersDropsNs() =>
        Router().DecideMirror("GET", "/v2/x/manifests/1?a=1&ns=docker.io&b=2").Target!.Query.Should().Be("?a=1&b=2");

    [Fact]
    public void DecideProxy_FirstMatchingRuleWins()
    {
        var router = Router(true, false, Rule("files\\.example/direct", direct: true), Rule("files\\.example"));
        router.DecideProxy("GET", new Uri("http://files.example/direct/a")).Kind.Should().Be(RouteKind.Forward);
        router.DecideProxy("GET", new Uri("http://files.example/other/a")).Kind.Should().Be(RouteKind.P2p);
    }

    [Fact]
    public void DecideProxy_UseHttps_RewritesScheme()
    {
        var d = Router(true, false, Rule("secure\\.example", useHttps: true)).DecideProxy("GET", new Uri("http://secure.example/a?b=1"));
        d.Target.Should().Be(new Uri("https://secure.example/a?b=1"));
    }

    [Fact]
    public void DecideProxy_UseHttpsToTheMirror_AllowedOnTheRewrittenPort() =>
        Router(false, false, Rule("registry\\.example", useHttps: true, direct: true)).DecideProxy("GET", new Uri("http://registry.example:5000/v2/")).Target
            .Should().Be(new Uri("https://registry.example:5000/v2/"));

    [Fact]
    public void DecideProxy_Redirect_RewritesHostAndPort()
    {
        var d = Router(false, false, Rule("old\\.example", redirect: "new.example:8080", direct: true)).DecideProxy("GET", new Uri("http://old.example/x"));
        d.Kind.Should().Be(RouteKind.Forward);
        d.Target.Should().Be(new Uri("http://new.example:8080/x"));
    }

    [Fact]
    public void DecideProxy_MatchingNonGet_Forwards() =>
        Router(true, false, Rule(".*")).DecideProxy("POST", new Uri("http://a.example/x")).Kind.Should().Be(RouteKind.Forward);

    [Fact]
    public void DecideProxy_NoMatch_DeniedUnlessOpenOrMirrorOrHijackHost()
    {
        var url = new Uri("http://elsewhere.example/x");
        Router().DecideProxy("GET", url).Kind.Should().Be(RouteKind.Deny);
        Router(open: true).DecideProxy("GET", url).Kind.Should().Be(RouteKind.Forward);
        Router().DecideProxy("GET", new Uri("http://REGISTRY.example:5000/v2/")).Kind.Should().Be(RouteKind.Forward);
        Router().DecideProxy("GET", new Uri("https://hijack.example/x")).Kind.Should().Be(RouteKind.Forward);
    }

    [Theory]
    [InlineData("http://anyhost.example/echo?x=blobs/sha256")]
    [InlineData("http://127.0.0.1:5002/echo?x=blobs/sha256")]
    [InlineData("http://registry.example/v2/x/blobs/sha256:" + Digest)]
    public void DecideProxy_RuleMatchesButHostOutsidePolicy_Denied(string url) =>
        Router(false, false, Rule("blobs/sha256.*")).DecideProxy("GET", new Uri(url)).Kind.Should().Be(RouteKind.Deny);

    [Theory]
    [InlineData("http://:%@registry.example:5000/v2/x/blobs/sha256:" + Digest)]
    [InlineData("HTTP://:%@4959://v2/library/alpine/blobs/sha256:" + Digest)]
    [InlineData("https://user:pw@registry.example:5000/v2/x/blobs/sha256:" + Digest)]
    public void DecideProxy_UrlWithUserInfo_Denied(string url) =>
        // The first two parse, and rewriting them for the matching rule threw UriFormatException (a 500).
        Router(true, false, Rule("blobs/sha256.*")).DecideProxy("GET", new Uri(url)).Kind.Should().Be(RouteKind.Deny);

    [Fact]
    public void DecideProxy_RuleMatchesAndHostIsTheMirror_P2p() =>
        Router(false, false, Rule("blobs/sha256.*")).DecideProxy("GET", new Uri("https://registry.example:5000/v2/x/blobs/sha256:" + Digest)).Kind
            .Should().Be(RouteKind.P2p);

    [Fact]
    public void DecideProxy_OtherPortOfTheMirrorHost_Denied() =>
        Router().DecideProxy("GET", new Uri("http://registry.example:22/")).Kind.Should().Be(RouteKind.Deny);

    [Fact]
    public void AllowConnect_Policy_OnlyNamedHostsAndPorts()
    {
        Router().AllowConnect("hijack.example", 443).Should().BeTrue();
        Router().AllowConnect("registry.example", 5000).Should().BeTrue();
        Router().AllowConnect("Registry.Example", 5000).Should().BeTrue("host names compare case-insensitively");
        Router(false, false, Rule("tunnel\\.example")).AllowConnect("tunnel.example", 443).Should().BeFalse("a proxies rule never lets a host in");
        Router().AllowConnect("evil.example", 443).Should().BeFalse();
        Router(open: true).AllowConnect("evil.example", 443).Should().BeTrue();
        Router().ShouldHijack("hijack.example", 443).Should().BeTrue();
        Router().ShouldHijack("registry.example", 5000).Should().BeFalse();
    }

    [Theory]
    [InlineData("registry.example", 443)]
    [InlineData("registry.example", 22)]
    [InlineData("hijack.example", 22)]
    [InlineData("hijack.example", 8443)]
    public void AllowConnect_NamedHostOnAnotherPort_Refused(string host, int port)
    {
        Router().AllowConnect(host, port).Should().BeFalse();
        Router().ShouldHijack(host, port).Should().BeFalse();
    }

    [Fact]
    public void ShouldHijack_ConfiguredPort_OnlyThatPort()
    {
        var router = new ProxyRouter(new DfdaemonOptions
        {
            WorkHome = "/tmp/h",
            LocalRepo = "/tmp/h/r",
            HijackHttps = new HijackHttpsOptions("c", "k", [new HijackHost(new Regex("^hijack\\.example$"), false, [], Port: 8443)]),
        });
        router.ShouldHijack("hijack.example", 8443).Should().BeTrue();
        router.AllowConnect("hijack.example", 8443).Should().BeTrue();
        router.AllowConnect("hijack.example", 443).Should().BeFalse();
    }

    [Fact]
    public void AllowConnect_MirrorWithoutPort_ItsSchemesDefault()
    {
        var router = new ProxyRouter(new DfdaemonOptions
        {
            WorkHome = "/tmp/h",
            LocalRepo = "/tmp/h/r",
            RegistryMirror = new RegistryMirrorOptions { Remote = new Uri("http://localhost") },
        });
        router.AllowConnect("localhost", 80).Should().BeTrue();
        router.AllowConnect("localhost", 5002).Should().BeFalse();
    }

    [Theory]
    [InlineData("/v2/x/manifests/echo%3Fa=b", "/v2/x/manifests/echo%3Fa=b", "")]
    [InlineData("/v2/x/manifests/a%2541?b=%25&ns=docker.io", "/v2/x/manifests/a%2541", "?b=%25")]
    [InlineData("/v2/x/a%2Fb", "/v2/x/a%2Fb", "")]
    public void DecideMirror_EncodedTarget_ReachesTheUpstreamAsSent(string rawTarget, string path, string query)
    {
        var target = Router().DecideMirror("GET", rawTarget).Target!;
        target.AbsolutePath.Should().Be(path);
        target.Query.Should().Be(query);
    }

    [Fact]
    public void DecideMirror_EncodedDigestColon_StillTheBlobsDigest()
    {
        var d = Router().DecideMirror("GET", "/v2/x/blobs/sha256%3A" + Digest);
        d.Kind.Should().Be(RouteKind.P2p);
        d.Sha256.Should().Be(Digest);
    }
}
