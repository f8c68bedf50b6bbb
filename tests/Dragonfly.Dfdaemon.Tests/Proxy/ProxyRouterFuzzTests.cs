using System.Text;
using System.Text.RegularExpressions;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Proxy;
using Dragonfly.Dfdaemon.Registry;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

/// <summary>
/// Hostile targets for dfdaemon's routing rules (registry mirror, proxy rules and host policy, the blob rules, requests
/// inside a hijacked tunnel): a decision, never an exception; a mirror request always goes to the mirror, a proxied one
/// only to a host the policy allows, a tunnel's request only to the tunnel's host and port, and P2P only for a GET of a
/// blob.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ProxyRouterFuzzTests
{
    private static readonly Uri Remote = new("https://mirror.example:5000/base/");

    private static readonly DfdaemonOptions Options = TestDfdaemonOptions() with
    {
        Proxies =
        [
            new ProxyRule(new Regex("blobs/sha256.*", RegexOptions.None, TimeSpan.FromMilliseconds(200)), false, false, null),
            new ProxyRule(new Regex("^https?://([a-z0-9-]+\\.)*registry\\.example(:\\d+)?/", RegexOptions.None, TimeSpan.FromMilliseconds(200)), true, false, null),
            new ProxyRule(new Regex("redirect-me", RegexOptions.None, TimeSpan.FromMilliseconds(200)), false, false, "mirror.example:5000"),
            new ProxyRule(new Regex("direct", RegexOptions.None, TimeSpan.FromMilliseconds(200)), false, true, null),
        ],
        HijackHttps = new HijackHttpsOptions("/nonexistent.crt", "/nonexistent.key", [new HijackHost(new Regex("^hijack\\.example$", RegexOptions.None, TimeSpan.FromMilliseconds(200)), false, [])]),
    };

    private static readonly string Digest = new('a', 64);

    private static readonly string[] Paths =
    [
        $"/v2/library/alpine/blobs/sha256:{Digest}", "/v2/library/alpine/manifests/latest", "/v2/", "/v2/a/b/c/blobs/uploads/", $"/v2/x/blobs/sha256:{Digest}?ns=docker.io&x=1",
    ];

    private static readonly string[] PathTokens =
    [
        "/", "v2", "blobs", "sha256:", Digest, "%2F", "%2f", "%0A", "%0a", "%00", "%25", "..", "?", "&", "ns=", "#", "@", ":", "%3F", "//", "manifests", "\\",
    ];

    [Fact]
    public Task DecideMirror_HostileTargets_AlwaysTheMirrorAndP2pOnlyForABlobGet() => Fuzzer.RunAsync(10_000, c =>
    {
        var router = new ProxyRouter(Options);
        var target = "/" + Printable(FuzzText.Hostile(c.Random, Paths, PathTokens, maxLength: 9000)).TrimStart('/');
        if (c.OneIn(30))
        {
            target = "/" + string.Concat(Enumerable.Repeat(c.Pick("/blobs/sha256", "%0a", "a/", "blobs/sha256:%0A/"), c.Random.Next(100, 700)));
        }

        var method = c.Pick("GET", "HEAD", "POST", "get", "PUT");
        c.SetInput($"{method} {target}");

        var decision = router.DecideMirror(method, target);

        decision.Kind.Should().BeOneOf(RouteKind.Forward, RouteKind.P2p);
        decision.Target!.Host.Should().Be(Remote.Host);
        decision.Target.Port.Should().Be(Remote.Port);
        decision.Target.Scheme.Should().Be(Remote.Scheme);
        if (decision.Kind == RouteKind.P2p)
        {
            method.Should().BeEquivalentTo("GET");
            decision.Sha256.Should().Match(s => s == null || s.Length == 64);
        }
    });

    [Fact]
    public Task DecideProxy_HostileUrls_DenyOrAnAllowedHost() => Fuzzer.RunAsync(10_000, c =>
    {
        var router = new ProxyRouter(Options);
        var host = c.Pick("mirror.example:5000", "mirror.example", "registry.example", "a.registry.example:8443", "hijack.example", "hijack.example:443", "evil.example", "127.0.0.1", "[::1]", "mirror.example:5000@evil.example", "evil.example#@mirror.example:5000");
        var text = c.Pick("http://", "https://", "ftp://", "HTTP://") + (c.OneIn(5) ? Printable(FuzzText.Hostile(c.Random, [host], [":", "@", ".", "[", "]", "%", "5000"])) : host)
            + "/" + Printable(FuzzText.Hostile(c.Random, Paths.Append("redirect-me").Append("direct").ToArray(), PathTokens));
        c.SetInput(text);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url))
        {
            return;
        }

        var decision = router.DecideProxy(c.Pick("GET", "HEAD", "POST"), url);
        if (decision.Kind == RouteKind.Deny)
        {
            decision.Reason.Should().NotBeNullOrEmpty();
            return;
        }

        var allowed = (decision.Target!.Host == Remote.Host && decision.Target.Port == Remote.Port) || (decision.Target.Host == "hijack.example" && decision.Target.Port == 443);
        allowed.Should().BeTrue($"only the mirror and the hijack host are reachable without open_proxy, not {decision.Target}");
    });

    [Fact]
    public Task UrlFor_HostileTargetsInsideATunnel_NullOrTheTunnelsOwnHostAndPort() => Fuzzer.RunAsync(10_000, c =>
    {
        var tunnel = c.Pick(new HijackedConnectionFeature("hijack.example", 443), new HijackedConnectionFeature("hijack.example", 8443), new HijackedConnectionFeature("::1", 443));
        var target = c.Random.Next(3) switch
        {
            0 => "/" + Printable(FuzzText.Hostile(c.Random, Paths, PathTokens)),
            1 => c.Pick("https://", "http://", "HTTPS://", "//") + c.Pick("hijack.example", "hijack.example:8443", "evil.example", "[::1]", "hijack.example@evil.example", "evil.example\\@hijack.example") + "/" + Printable(FuzzText.Hostile(c.Random, Paths, PathTokens)),
            _ => Printable(FuzzText.AnyString(c.Random, 200)),
        };
        c.SetInput($"{tunnel.Authority} {target}");

        if (tunnel.UrlFor(target) is { } url)
        {
            url.Scheme.Should().Be("https");
            url.Host.Trim('[', ']').Should().Be(tunnel.Host);
            url.Port.Should().Be(tunnel.Port);
        }
    });

    [Fact]
    public Task BlobPath_HostilePaths_ADecisionAndADigestOrNull() => Fuzzer.RunAsync(4000, c =>
    {
        var path = c.OneIn(20)
            ? string.Concat(Enumerable.Repeat(c.Pick("/blobs/sha256", "/blobs/sha256\n", "a", "\n", "/blobs/sha256:" + Digest + "\n"), c.Random.Next(100, 1200)))
            : Uri.UnescapeDataString(FuzzText.Hostile(c.Random, Paths, PathTokens, maxLength: 9000));
        c.SetInput(path);

        _ = BlobPath.IsBlob(path);
        BlobPath.Sha256Of(path).Should().Match(s => s == null || (s.Length == 64 && s.All(char.IsAsciiHexDigitLower)));
    });

    private static DfdaemonOptions TestDfdaemonOptions() => new()
    {
        LocalRepo = "/nonexistent/repo",
        WorkHome = "/nonexistent",
        RegistryMirror = new RegistryMirrorOptions { Remote = Remote },
    };

    /// <summary>What Kestrel lets through as a request target: visible ASCII.</summary>
    private static string Printable(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            sb.Append(ch is > ' ' and < (char)0x7F ? ch : '%');
        }

        return sb.ToString();
    }
}
