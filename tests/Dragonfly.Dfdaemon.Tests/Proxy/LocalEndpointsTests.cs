using System.Net;
using System.Security.Cryptography.X509Certificates;
using Dragonfly.Common.Security;
using Dragonfly.Dfdaemon.Proxy;
using Dragonfly.Dfdaemon.Tests.Support;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

public class LocalEndpointsTests
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task Ping_Get_Ok()
    {
        await using var daemon = await TestDfdaemon.StartAsync();
        using var client = daemon.MirrorClient();
        (await client.GetStringAsync("/_ping", Timeout())).Should().Be("OK");
        (await client.GetStringAsync("/debug/version", Timeout())).Should().StartWith("dfdaemon version");
    }

    [Fact]
    public async Task Ping_CertPemAndKeyPem_ServedOverHttps()
    {
        using var dir = new Dragonfly.TestCommon.TempDirectory();
        using var ca = Dragonfly.Dfdaemon.Tls.CertificateAuthority.CreateCa("serving CA", TimeSpan.FromDays(1), TimeProvider.System);
        using (var leaf = new Dragonfly.Dfdaemon.Tls.CertificateAuthority(ca, TimeProvider.System).IssueLeaf("127.0.0.1", TimeSpan.FromHours(2)))
        {
            File.WriteAllText(dir.Combine("tls.crt"), leaf.ExportCertificatePem());
            File.WriteAllText(dir.Combine("tls.key"), leaf.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        }

        await using var daemon = await TestDfdaemon.StartAsync(o => o with { CertPem = dir.Combine("tls.crt"), KeyPem = dir.Combine("tls.key") });
        daemon.Address.Scheme.Should().Be("https");
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, SslOptions = { RemoteCertificateValidationCallback = TestCertificates.TrustOnly(ca) } })
        {
            BaseAddress = daemon.Address,
        };

        (await client.GetStringAsync("/_ping", Timeout())).Should().Be("OK");
    }

    [Fact]
    public async Task Metrics_Get_PrometheusCounters()
    {
        await using var daemon = await TestDfdaemon.StartAsync();
        using var client = daemon.MirrorClient();
        var text = await client.GetStringAsync("/metrics", Timeout());
        text.Should().Contain("# TYPE dragonfly_dfdaemon_p2p_bytes_total counter").And.Contain("dragonfly_dfdaemon_direct_bytes_total 0");
    }

    [Fact]
    public async Task Args_WithCredentialUrl_Redacted()
    {
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { Args = ["--registry", "https://user:secret@reg.example", "--port", "65001"] });
        using var client = daemon.MirrorClient();
        var text = await client.GetStringAsync("/args", Timeout());
        text.Should().Contain("--registry https://<redacted>@reg.example --port 65001").And.NotContain("secret");
    }

    [Theory]
    [InlineData("DFDAEMON_PORT", "65001", "65001")]
    [InlineData("DFDAEMON_REGISTRY_TOKEN", "abc", "<redacted>")]
    [InlineData("HTTPS_PROXY", "http://u:p@proxy:3128", "http://<redacted>@proxy:3128")]
    public void EnvValue_SecretLooking_Redacted(string key, string value, string expected) =>
        Redact.EnvValue(key, value).Should().Be(expected);

    [Theory]
    [InlineData("DFDAEMON_PORT", true)]
    [InlineData("AWS_SECRET_ACCESS_KEY", false)]
    [InlineData("PATH", false)]
    public void IsShownEnv_Key_OnlyDfdaemonAndProxyVariables(string key, bool shown) => Redact.IsShownEnv(key).Should().Be(shown);

    [Fact]
    public async Task Env_Get_ShowsNoUnrelatedVariables()
    {
        await using var daemon = await TestDfdaemon.StartAsync();
        using var client = daemon.MirrorClient();
        using var response = await client.GetAsync("/env", Timeout());
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var text = await response.Content.ReadAsStringAsync();
        text.Should().NotContain("PATH=").And.NotContain("HOME=");
    }
}
