using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dragonfly.Supernode.Origin;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Supernode.Tests.Origin;

public sealed class OriginClientTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly OriginClient _client = new(new SourceConnector(SourceAddressPolicy.AllowAll, NullLogger<SourceConnector>.Instance), NullLogger<OriginClient>.Instance);
    private OriginServer _origin = null!;

    public async Task InitializeAsync() => _origin = await OriginServer.StartAsync(_timeout.Token);

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _origin.DisposeAsync();
        _timeout.Dispose();
    }

    [Fact]
    public async Task ProbeAsync_Ok_ReturnsContentLengthWithAGet()
    {
        _origin.AddFile("/a.bin", 12345);

        var probe = await _client.ProbeAsync(Request("/a.bin"), _timeout.Token);

        probe.Should().Be(new OriginProbe(OriginProbeStatus.Ok, 12345, 200));
        _origin.Requests.Should().ContainSingle().Which.Method.Should().Be("GET");
    }

    [Fact]
    public async Task ProbeAsync_LargeFile_AsksForOneByteAndReadsTotalFromContentRange()
    {
        _origin.AddFile("/big.bin", 32L * 1024 * 1024);

        var probe = await _client.ProbeAsync(Request("/big.bin"), _timeout.Token);

        probe.Should().Be(new OriginProbe(OriginProbeStatus.Ok, 32L * 1024 * 1024, 200));
        _origin.Requests.Should().ContainSingle().Which.Range.Should().Be("bytes=0-0");
        _origin.BodyBytesServed.Should().Be(1, "the probe must not pull the body from the origin");
    }

    [Fact]
    public async Task ProbeAsync_EmptyFile_ReportsZeroLengthFrom416()
    {
        _origin.AddFile("/empty.bin", []);

        var probe = await _client.ProbeAsync(Request("/empty.bin"), _timeout.Token);

        probe.Should().Be(new OriginProbe(OriginProbeStatus.Ok, 0, 200));
    }

    [Fact]
    public async Task ProbeAsync_SourceIgnoresRange_UsesContentLength()
    {
        _origin.AddFile("/norange.bin", 4096).SupportsRange = false;

        var probe = await _client.ProbeAsync(Request("/norange.bin"), _timeout.Token);

        probe.Should().Be(new OriginProbe(OriginProbeStatus.Ok, 4096, 200));
    }

    [Fact]
    public async Task ProbeAsync_TaskWithOwnRange_KeepsItsRange()
    {
        _origin.AddFile("/r.bin", 4096);

        var probe = await _client.ProbeAsync(Request("/r.bin", ("Range", "bytes=0-99")), _timeout.Token);

        probe.Should().Be(new OriginProbe(OriginProbeStatus.Ok, 100, 206));
        _origin.Requests.Single().Range.Should().Be("bytes=0-99");
    }

    [Fact]
    public async Task ProbeAsync_NotFound_ReportsNotFound()
    {
        var probe = await _client.ProbeAsync(Request("/nope.bin"), _timeout.Token);

        probe.Status.Should().Be(OriginProbeStatus.NotFound);
        probe.HttpStatus.Should().Be(404);
    }

    [Fact]
    public async Task ProbeAsync_BasicAuth_RequiredWithoutAndOkWithAuthorization()
    {
        _origin.AddFile("/p.bin", 10).RequireBasicAuth("u", "p");
        var auth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("u:p"));

        (await _client.ProbeAsync(Request("/p.bin"), _timeout.Token)).Status.Should().Be(OriginProbeStatus.AuthenticationRequired);
        (await _client.ProbeAsync(Request("/p.bin", ("Authorization", auth)), _timeout.Token)).Should().Be(new OriginProbe(OriginProbeStatus.Ok, 10, 200));
    }

    [Theory]
    [InlineData(407, OriginProbeStatus.AuthenticationRequired)]
    [InlineData(500, OriginProbeStatus.Ok)]
    [InlineData(403, OriginProbeStatus.Ok)]
    public async Task ProbeAsync_OtherStatuses_MapLikeTheOriginal(int status, OriginProbeStatus expected)
    {
        _origin.AddFile("/s.bin", 10).StatusOverride = status;

        var probe = await _client.ProbeAsync(Request("/s.bin"), _timeout.Token);

        probe.Status.Should().Be(expected);
        probe.ContentLength.Should().Be(-1);
    }

    [Fact]
    public async Task ProbeAsync_ConnectionRefused_Unreachable()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var probe = await _client.ProbeAsync(new OriginRequest(new Uri($"http://127.0.0.1:{port}/x"), new Dictionary<string, string>()), _timeout.Token);

        probe.Status.Should().Be(OriginProbeStatus.Unreachable);
    }

    [Fact]
    public async Task SupportsRangeAsync_FollowsTheSource()
    {
        _origin.AddFile("/r.bin", 100);
        _origin.AddFile("/n.bin", 100).SupportsRange = false;

        (await _client.SupportsRangeAsync(Request("/r.bin"), _timeout.Token)).Should().BeTrue();
        (await _client.SupportsRangeAsync(Request("/n.bin"), _timeout.Token)).Should().BeFalse();
        _origin.Requests.Should().OnlyContain(r => r.Range == "bytes=0-0");
    }

    [Fact]
    public async Task GetAsync_PassesSourceHeadersAndExtraHeadersAndStreams()
    {
        var file = _origin.AddFile("/h.bin", 1000, seed: 2);

        using var response = await _client.GetAsync(
            Request("/h.bin", ("Authorization", "Bearer t"), ("Host", "evil.example"), ("Range", "bytes=0-1")),
            new Dictionary<string, string> { ["Range"] = "bytes=10-19" },
            _timeout.Token);

        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        (await response.Content.ReadAsByteArrayAsync(_timeout.Token)).Should().Equal(file.ReadAll()[10..20]);
        var seen = _origin.Requests.Should().ContainSingle().Subject;
        seen.Authorization.Should().Be("Bearer t");
        seen.Range.Should().Be("bytes=10-19");
    }

    [Fact]
    public async Task ProbeAsync_Https_VerifiesUnlessInsecureOrTrustedByClientRootCAs()
    {
        using var ca = CreateCa("CN=dragonfly-test-ca");
        using var otherCa = CreateCa("CN=other-ca");
        using var leaf = CreateLeaf(ca);
        await using var app = await StartHttpsAsync(leaf);
        var url = new Uri($"https://127.0.0.1:{app.Port}/tls.bin");
        var caPem = Encoding.ASCII.GetBytes(ca.ExportCertificatePem());
        var otherPem = Encoding.ASCII.GetBytes(otherCa.ExportCertificatePem());
        var none = new Dictionary<string, string>();

        (await _client.ProbeAsync(new OriginRequest(url, none), _timeout.Token)).Status.Should().Be(OriginProbeStatus.Unreachable);
        (await _client.ProbeAsync(new OriginRequest(url, none, Insecure: true), _timeout.Token)).Should().Be(new OriginProbe(OriginProbeStatus.Ok, 3, 200));
        (await _client.ProbeAsync(new OriginRequest(url, none, RootCAs: [caPem]), _timeout.Token)).Should().Be(new OriginProbe(OriginProbeStatus.Ok, 3, 200));
        (await _client.ProbeAsync(new OriginRequest(url, none, RootCAs: [otherPem]), _timeout.Token)).Status.Should().Be(OriginProbeStatus.Unreachable);
    }

    private OriginRequest Request(string path, params (string Name, string Value)[] headers) =>
        new(_origin.Url(path), headers.ToDictionary(h => h.Name, h => h.Value));

    private static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 CreateLeaf(X509Certificate2 ca)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), [1, 2, 3, 4]);
        using var withKey = cert.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
    }

    private static async Task<HttpsApp> StartHttpsAsync(X509Certificate2 certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        app.Run(context =>
        {
            context.Response.ContentLength = 3;
            return context.Response.WriteAsync("abc");
        });
        await app.StartAsync();
        return new HttpsApp(app);
    }

    private sealed class HttpsApp(WebApplication app) : IAsyncDisposable
    {
        public int Port => new Uri(app.Urls.First()).Port;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
