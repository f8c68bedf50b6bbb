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
        var d = Router().DecideMirror("GET", "/v2/library/busybox/blobs/sha256:" + Digest, "?ns=docker.io");
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
        Router().DecideMirror(method, path, string.Empty).Kind.Should().Be(RouteKind.Forward);

    [Fact]
    public void DecideMirror_MirrorDirect_ForwardsBlobs() =>
        Router(direct: true).DecideMirror("GET", "/v2/x/blobs/sha256:" + Digest, string.Empty).Kind.Should().Be(RouteKind.Forward);

    [Fact]
    public void DecideMirror_Query_KeepsOtherParametersDropsNs() =>
        Router().DecideMirror("GET", "/v2/x/manifests/1", "?a=1&ns=docker.io&b=2").Target!.Query.Should().Be("?a=1&b=2");

    [Fact]
    public void DecideProxy_FirstMatchingRuleWins()
    {
        var router = Router(false, false, Rule("files\\.example/direct", direct: true), Rule("files\\.example"));
        router.DecideProxy("GET", new Uri("http://files.example/direct/a"), false).Kind.Should().Be(RouteKind.Forward);
        router.DecideProxy("GET", new Uri("http://files.example/other/a"), false).Kind.Should().Be(RouteKind.P2p);
    }

    [Fact]
    public void DecideProxy_UseHttps_RewritesScheme()
    {
        var d = Router(false, false, Rule("secure\\.example", useHttps: true)).DecideProxy("GET", new Uri("http://secure.example/a?b=1"), false);
        d.Target.Should().Be(new Uri("https://secure.example/a?b=1"));
    }

    [Fact]
    public void DecideProxy_Redirect_RewritesHostAndPort()
    {
        var d = Router(false, false, Rule("old\\.example", redirect: "new.example:8080", direct: true)).DecideProxy("GET", new Uri("http://old.example/x"), false);
        d.Kind.Should().Be(RouteKind.Forward);
        d.Target.Should().Be(new Uri("http://new.example:8080/x"));
    }

    [Fact]
    public void DecideProxy_MatchingNonGet_Forwards() =>
        Router(false, false, Rule(".*")).DecideProxy("POST", new Uri("http://a.example/x"), false).Kind.Should().Be(RouteKind.Forward);

    [Fact]
    public void DecideProxy_NoMatch_DeniedUnlessOpenOrMirrorOrTunnel()
    {
        var url = new Uri("http://elsewhere.example/x");
        Router().DecideProxy("GET", url, false).Kind.Should().Be(RouteKind.Deny);
        Router(open: true).DecideProxy("GET", url, false).Kind.Should().Be(RouteKind.Forward);
        Router().DecideProxy("GET", url, preAuthorized: true).Kind.Should().Be(RouteKind.Forward);
        Router().DecideProxy("GET", new Uri("http://registry.example/v2/"), false).Kind.Should().Be(RouteKind.Forward);
    }

    [Fact]
    public void AllowConnect_Policy_OnlyNamedHosts()
    {
        Router().AllowConnect("hijack.example").Should().BeTrue();
        Router().AllowConnect("registry.example").Should().BeTrue();
        Router(false, false, Rule("tunnel\\.example")).AllowConnect("tunnel.example").Should().BeTrue();
        Router().AllowConnect("evil.example").Should().BeFalse();
        Router(open: true).AllowConnect("evil.example").Should().BeTrue();
        Router().ShouldHijack("hijack.example").Should().BeTrue();
        Router().ShouldHijack("registry.example").Should().BeFalse();
    }
}
