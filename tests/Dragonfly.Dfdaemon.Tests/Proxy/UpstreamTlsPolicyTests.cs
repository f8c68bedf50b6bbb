using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Proxy;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.Dfdaemon.Tls;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

/// <summary>
/// TLS trust settings (<c>insecure</c>, <c>certs</c>) apply to a host and port, as the host policy does: the mirror's host on
/// its own port, a hijack host on its entry's port. The same host on another port is verified against the system store.
/// </summary>
public class UpstreamTlsPolicyTests
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static DfdaemonOptions Options(string home) => TestDfdaemon.DefaultOptions(home);

    [Fact]
    public void TrustFor_MirrorHost_OnlyOnTheMirrorsPort()
    {
        using var dir = new TempDirectory();
        var (ca, _, caCert) = TestCertificates.WriteCa(dir.Path);
        using var _ = caCert;
        var policy = new UpstreamTlsPolicy(Options(dir.Path) with
        {
            RegistryMirror = new RegistryMirrorOptions { Remote = new Uri("https://reg.example:5000"), Insecure = true, Certs = [ca] },
        });

        policy.TrustFor("reg.example", 5000).Insecure.Should().BeTrue();
        policy.TrustFor("REG.example", 5000).CaFiles.Should().Equal(ca);
        policy.TrustFor("reg.example", 443).Should().BeSameAs(UpstreamTrust.Default, "another port of the mirror's host is another server");
        policy.IsInsecure(new Uri("https://reg.example/v2/")).Should().BeFalse();
        policy.CaFilesFor(new Uri("https://reg.example:5001/v2/")).Should().BeEmpty();
    }

    [Fact]
    public void TrustFor_MirrorWithoutPort_ItsSchemesDefaultPort()
    {
        using var dir = new TempDirectory();
        var policy = new UpstreamTlsPolicy(Options(dir.Path) with
        {
            RegistryMirror = new RegistryMirrorOptions { Remote = new Uri("https://reg.example"), Insecure = true },
        });

        policy.IsInsecure(new Uri("https://reg.example/v2/")).Should().BeTrue();
        policy.IsInsecure(new Uri("https://reg.example:443/v2/")).Should().BeTrue();
        policy.IsInsecure(new Uri("https://reg.example:8443/v2/")).Should().BeFalse();
    }

    [Theory]
    [InlineData(null, 443, true)]
    [InlineData(null, 8443, false)]
    [InlineData(8443, 8443, true)]
    [InlineData(8443, 443, false)]
    public void TrustFor_HijackHost_OnlyOnItsEntrysPort(int? entryPort, int port, bool trusted)
    {
        using var dir = new TempDirectory();
        var (ca, key, caCert) = TestCertificates.WriteCa(dir.Path);
        using var _ = caCert;
        var host = new HijackHost(new Regex("^h\\.example$"), Insecure: true, [ca], entryPort ?? HijackHost.DefaultPort);
        var policy = new UpstreamTlsPolicy(Options(dir.Path) with { HijackHttps = new HijackHttpsOptions(ca, key, [host]) });

        var trust = policy.TrustFor("h.example", port);

        trust.Insecure.Should().Be(trusted);
        trust.CaFiles.Should().Equal(trusted ? [ca] : []);
    }

    [Fact]
    public void TrustFor_SameEntriesMatching_SameTrustInstance()
    {
        using var dir = new TempDirectory();
        var (ca, key, caCert) = TestCertificates.WriteCa(dir.Path);
        using var _ = caCert;
        var policy = new UpstreamTlsPolicy(Options(dir.Path) with
        {
            HijackHttps = new HijackHttpsOptions(ca, key, [new HijackHost(new Regex("\\.example$"), false, [ca])]),
        });

        policy.TrustFor("a.example", 443).Should().BeSameAs(policy.TrustFor("b.example", 443), "one trust, one connection pool");
        policy.TrustFor("a.example", 443).Should().NotBeSameAs(UpstreamTrust.Default);
    }

    [Fact]
    public async Task Forward_MirrorInsecure_SameHostOnAnotherPortIsVerified()
    {
        using var certA = TestCertificates.SelfSignedLoopback();
        using var certB = TestCertificates.SelfSignedLoopback();
        await using var mirror = await TestUpstream.StartAsync(ctx => ctx.Response.WriteAsync("mirror"), certA);
        var otherHits = 0;
        await using var other = await TestUpstream.StartAsync(ctx => { Interlocked.Increment(ref otherHits); return ctx.Response.WriteAsync("other"); }, certB);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with
        {
            OpenProxy = true,
            Proxies = [new ProxyRule(new Regex("127\\.0\\.0\\.1"), UseHttps: true, Direct: true, null)],
            RegistryMirror = new RegistryMirrorOptions { Remote = new Uri($"https://127.0.0.1:{mirror.Port}"), Insecure = true },
        });
        using var client = daemon.ProxyClient();

        (await client.GetStringAsync($"http://127.0.0.1:{mirror.Port}/x", Timeout())).Should().Be("mirror");
        using var response = await client.GetAsync($"http://127.0.0.1:{other.Port}/x", Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway, "registry_mirror.insecure is for the mirror's port, not every port of its host");
        otherHits.Should().Be(0);
    }

    [Fact]
    public async Task Forward_HijackHostCerts_TrustedOnlyOnItsEntrysPort()
    {
        using var dir = new TempDirectory();
        using var ca = CertificateAuthority.CreateCa("upstreams' CA", TimeSpan.FromDays(2), TimeProvider.System);
        var caPem = Path.Combine(dir.Path, "upstream-ca.crt");
        CertificateAuthority.WritePem(ca, caPem, Path.Combine(dir.Path, "upstream-ca.key"));
        using var certA = LoopbackLeaf(ca);
        using var certB = LoopbackLeaf(ca);
        await using var a = await TestUpstream.StartAsync(ctx => ctx.Response.WriteAsync("a"), certA);
        await using var b = await TestUpstream.StartAsync(ctx => ctx.Response.WriteAsync("b"), certB);
        var (hijackCert, hijackKey, hijackCa) = TestCertificates.WriteCa(dir.Path);
        using var _ = hijackCa;
        await using var daemon = await TestDfdaemon.StartAsync(o => o with
        {
            OpenProxy = true,
            Proxies = [new ProxyRule(new Regex("127\\.0\\.0\\.1"), UseHttps: true, Direct: true, null)],
            HijackHttps = new HijackHttpsOptions(hijackCert, hijackKey, [new HijackHost(new Regex("^127\\.0\\.0\\.1$"), Insecure: false, [caPem], a.Port)]),
        });
        using var client = daemon.ProxyClient();

        (await client.GetStringAsync($"http://127.0.0.1:{a.Port}/x", Timeout())).Should().Be("a", "the entry's CA is trusted on the entry's port");
        using var response = await client.GetAsync($"http://127.0.0.1:{b.Port}/x", Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway, "hijack_https.hosts[].certs are for that entry's port only");
    }

    [Fact]
    public async Task Blob_P2pDownload_GetsTheTrustOfItsOwnHostAndPort()
    {
        var content = "blob"u8.ToArray();
        var digest = Convert.ToHexStringLower(SHA256.HashData(content));
        var fetcher = RecordingBlobFetcher.Serving(content);
        const int mirrorPort = 5443;
        const int otherPort = 6443;
        await using var daemon = await TestDfdaemon.StartAsync(
            o => o with
            {
                OpenProxy = true,
                VerifyBlobAccess = false,
                Proxies = [new ProxyRule(new Regex("/blobs/"), UseHttps: true, Direct: false, null)],
                RegistryMirror = new RegistryMirrorOptions { Remote = new Uri($"https://127.0.0.1:{mirrorPort}"), Insecure = true },
            },
            s => s.AddSingleton<IBlobFetcher>(fetcher));

        using (var mirrorClient = daemon.MirrorClient())
        {
            (await mirrorClient.GetByteArrayAsync($"/v2/x/blobs/sha256:{digest}", Timeout())).Should().Equal(content);
        }

        using (var proxyClient = daemon.ProxyClient())
        {
            (await proxyClient.GetByteArrayAsync($"http://127.0.0.1:{otherPort}/v2/x/blobs/sha256:{digest}", Timeout())).Should().Equal(content);
        }

        var requests = fetcher.Requests.ToList();
        requests.Select(r => r.Url.Port).Should().Equal(mirrorPort, otherPort);
        requests[0].Insecure.Should().BeTrue("the mirror's download skips verification, as configured");
        requests[1].Insecure.Should().BeFalse("the same host on another port is not the mirror");
    }

    private static X509Certificate2 LoopbackLeaf(X509Certificate2 ca)
    {
        using var leaf = new CertificateAuthority(ca, TimeProvider.System).IssueLeaf("127.0.0.1", TimeSpan.FromHours(2));
        return X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
    }
}
