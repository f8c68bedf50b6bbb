using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfdaemon.Proxy;
using Dragonfly.Dfdaemon.Tests.Registry;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

/// <summary>CONNECT over real sockets: blind tunnels, policy refusals and HTTPS interception with generated leaf certificates.</summary>
public class ConnectHandlerTests
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Theory]
    [InlineData("CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n", "400")]
    [InlineData("CONNECT a.example:0 HTTP/1.1\r\n\r\n", "400")]
    [InlineData("CONNECT user@a.example:443 HTTP/1.1\r\n\r\n", "400")]
    [InlineData("CONNECT /a.example:443 HTTP/1.1\r\n\r\n", "400")]
    [InlineData("CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400")]
    [InlineData("CONNECT a.example:443 HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n", "400")]
    [InlineData("CONNECT a.example:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "400")]
    [InlineData("CONNECT a.example:443 HTTP/3.0\r\n\r\n", "505")]
    public async Task Connect_MalformedHead_GetsTheParsersStatusAndIsClosed(string head, string status)
    {
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { Proxies = [new ProxyRule(new Regex(".*"), false, true, null)] });
        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();

        await s.WriteAsync(Encoding.ASCII.GetBytes(head), Timeout());

        (await ReadHeadAsync(s)).Should().StartWith($"HTTP/1.1 {status} ");
        (await s.ReadAsync(new byte[1], Timeout())).Should().Be(0, "the connection is closed after the error");
        daemon.Services.GetRequiredService<DfdaemonMetrics>().Tunnels.Should().Be(0);
    }

    [Fact]
    public async Task Connect_HeadOver16KiB_Gets431()
    {
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { Proxies = [new ProxyRule(new Regex(".*"), false, true, null)] });
        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();

        await s.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT a.example:443 HTTP/1.1\r\nX-Pad: {new string('a', 17 * 1024)}\r\n\r\n"), Timeout());

        (await ReadHeadAsync(s)).Should().StartWith("HTTP/1.1 431 ");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connect_AllowedHost_BlindTunnelToEchoServer(bool bytesBehindTheHead)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var echo = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptTcpClientAsync(Timeout());
            var stream = accepted.GetStream();
            var buffer = new byte[1024];
            int n;
            while ((n = await stream.ReadAsync(buffer, Timeout())) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n), Timeout());
            }
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: new Uri($"http://127.0.0.1:{port}"));

        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();
        var head = $"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n";
        if (bytesBehindTheHead)
        {
            // A client that does not wait for the 200 (as a TLS client sending its hello at once): the bytes must reach the tunnel.
            await s.WriteAsync(Encoding.ASCII.GetBytes(head + "ping through tunnel"), Timeout());
            (await ReadHeadAsync(s)).Should().StartWith("HTTP/1.1 200");
        }
        else
        {
            await s.WriteAsync(Encoding.ASCII.GetBytes(head), Timeout());
            (await ReadHeadAsync(s)).Should().StartWith("HTTP/1.1 200");
            await s.WriteAsync("ping through tunnel"u8.ToArray(), Timeout());
        }

        var reply = new byte["ping through tunnel".Length];
        await s.ReadExactlyAsync(reply, Timeout());
        Encoding.ASCII.GetString(reply).Should().Be("ping through tunnel");
        client.Client.Shutdown(SocketShutdown.Send);
        await echo.WaitAsync(Timeout());
        daemon.Services.GetRequiredService<DfdaemonMetrics>().Tunnels.Should().Be(1);
    }

    [Fact]
    public async Task Connect_HostOutsidePolicy_Forbidden()
    {
        await using var daemon = await TestDfdaemon.StartAsync();
        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();
        await s.WriteAsync("CONNECT evil.example:443 HTTP/1.1\r\n\r\n"u8.ToArray(), Timeout());
        (await ReadHeadAsync(s)).Should().StartWith("HTTP/1.1 403");
    }

    [Fact]
    public async Task Connect_UnreachableTarget_BadGateway()
    {
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { OpenProxy = true });
        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();
        await s.WriteAsync("CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n"u8.ToArray(), Timeout());
        (await ReadHeadAsync(s)).Should().StartWith("HTTP/1.1 502");
    }

    [Fact]
    public async Task Connect_TunnelThroughHttpClient_ReachesHttpsUpstreamEndToEnd()
    {
        using var upstreamCert = TestCertificates.SelfSignedLoopback();
        await using var upstream = await TestUpstream.StartAsync(ctx => ctx.Response.WriteAsync("tunneled"), upstreamCert);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { OpenProxy = true });
        using var client = daemon.ProxyClient(h => h.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == upstreamCert.GetCertHashString());

        (await client.GetStringAsync($"https://127.0.0.1:{upstream.Port}/", Timeout())).Should().Be("tunneled");
    }

    [RequiresToolsFact("curl")]
    public async Task Connect_CurlThroughTheProxy_ReachesHttpsUpstreamEndToEnd()
    {
        using var upstreamCert = TestCertificates.SelfSignedLoopback();
        await using var upstream = await TestUpstream.StartAsync(ctx => ctx.Response.WriteAsync("tunneled for curl"), upstreamCert);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { OpenProxy = true });

        var run = await ExternalProcess.RunAsync(
            "curl",
            ["-sS", "--fail", "--insecure", "--proxy", $"http://{daemon.Address.Host}:{daemon.Address.Port}", $"https://127.0.0.1:{upstream.Port}/"],
            TimeSpan.FromSeconds(60));

        run.EnsureSuccess("curl through the CONNECT tunnel").Output.Should().Contain("tunneled for curl");
        daemon.Services.GetRequiredService<DfdaemonMetrics>().Tunnels.Should().Be(1);
    }

    [Fact]
    public async Task Connect_HijackedHost_LeafFromCaVerifiesAndContentFlowsThroughRules()
    {
        using var dir = new TempDirectory();
        var (caCert, caKey, ca) = TestCertificates.WriteCa(dir.Path);
        using var _ = ca;
        using var upstreamCert = TestCertificates.SelfSignedLoopback();
        var paths = new List<string>();
        await using var upstream = await TestUpstream.StartAsync(ctx =>
        {
            paths.Add(ctx.Request.Method + " " + ctx.Request.Path + " " + ctx.Request.Scheme);
            return ctx.Response.WriteAsync("inner content");
        }, upstreamCert);
        var blob = "blob via p2p"u8.ToArray();
        var fetcher = RecordingBlobFetcher.Serving(blob);
        await using var daemon = await TestDfdaemon.StartAsync(
            o => o with
            {
                HijackHttps = new HijackHttpsOptions(caCert, caKey, [new HijackHost(new Regex("^127\\.0\\.0\\.1$"), Insecure: true, [], upstream.Port)]),
                Proxies = [new ProxyRule(new Regex("/blobs/"), false, false, null)],
            },
            s => s.AddSingleton<IBlobFetcher>(fetcher));
        X509Certificate2? presented = null;
        using var client = daemon.ProxyClient(h => h.SslOptions.RemoteCertificateValidationCallback = TestCertificates.TrustOnly(ca, c => presented = c));

        (await client.GetStringAsync($"https://127.0.0.1:{upstream.Port}/plain", Timeout())).Should().Be("inner content");
        (await client.GetByteArrayAsync($"https://127.0.0.1:{upstream.Port}/v2/x/blobs/y", Timeout())).Should().Equal(blob);

        presented.Should().NotBeNull();
        presented!.Issuer.Should().Be(ca.Subject);
        presented.MatchesHostname("127.0.0.1").Should().BeTrue();
        paths.Should().Equal(["GET /plain https"], "a rule-matched URL that is not a registry API blob is not asked about: P2P serves it");
        fetcher.Requests.Should().ContainSingle().Which.Url.Should().Be(new Uri($"https://127.0.0.1:{upstream.Port}/v2/x/blobs/y"));
        daemon.Services.GetRequiredService<DfdaemonMetrics>().Hijacked.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Connect_HijackedHostClientWithoutCa_HandshakeRejected()
    {
        using var dir = new TempDirectory();
        var (caCert, caKey, ca) = TestCertificates.WriteCa(dir.Path);
        using var _ = ca;
        await using var daemon = await TestDfdaemon.StartAsync(o => o with
        {
            HijackHttps = new HijackHttpsOptions(caCert, caKey, [new HijackHost(new Regex("^127\\.0\\.0\\.1$"), true, [], Port: 9)]),
        });
        using var client = daemon.ProxyClient();

        var act = () => client.GetStringAsync("https://127.0.0.1:9/", Timeout());
        await act.Should().ThrowAsync<HttpRequestException>();
    }

    [Fact]
    public async Task Connect_HijackedTunnel_AbsoluteTargetNamingAnotherHost_BadRequestNotForwarded()
    {
        using var dir = new TempDirectory();
        var (caCert, caKey, ca) = TestCertificates.WriteCa(dir.Path);
        using var _ = ca;
        var hits = new List<string>();
        await using var other = await TestUpstream.StartAsync(ctx =>
        {
            lock (hits)
            {
                hits.Add(ctx.Request.Path);
            }

            return ctx.Response.WriteAsync("relayed");
        });
        await using var daemon = await TestDfdaemon.StartAsync(o => o with
        {
            HijackHttps = new HijackHttpsOptions(caCert, caKey, [new HijackHost(new Regex("^127\\.0\\.0\\.1$"), true, [])]),
        });
        await using var tls = await HijackedTunnelAsync(daemon, "127.0.0.1:443", ca);

        await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET http://127.0.0.1:{other.Port}/echo HTTP/1.1\r\nHost: 127.0.0.1:{other.Port}\r\n\r\n"), Timeout());

        (await ReadHeadAsync(tls)).Should().StartWith("HTTP/1.1 400 ");
        hits.Should().BeEmpty("a request inside a tunnel to 127.0.0.1:443 reaches nothing else, open_proxy being false");
        daemon.Services.GetRequiredService<DfdaemonMetrics>().Forwarded.Should().Be(0);
    }

    [Fact]
    public async Task Connect_HijackedTunnel_AbsoluteTargetNamingTheTunnelHost_Served()
    {
        using var dir = new TempDirectory();
        var (caCert, caKey, ca) = TestCertificates.WriteCa(dir.Path);
        using var _ = ca;
        using var upstreamCert = TestCertificates.SelfSignedLoopback();
        await using var upstream = await TestUpstream.StartAsync(ctx => ctx.Response.WriteAsync("inner:" + ctx.Request.Path), upstreamCert);
        await using var daemon = await TestDfdaemon.StartAsync(o => o with
        {
            HijackHttps = new HijackHttpsOptions(caCert, caKey, [new HijackHost(new Regex("^127\\.0\\.0\\.1$"), true, [], upstream.Port)]),
        });
        await using var tls = await HijackedTunnelAsync(daemon, $"127.0.0.1:{upstream.Port}", ca);

        await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET https://127.0.0.1:{upstream.Port}/abs HTTP/1.1\r\nHost: 127.0.0.1:{upstream.Port}\r\nConnection: close\r\n\r\n"), Timeout());

        var response = await ReadToEndAsync(tls);
        response.Should().StartWith("HTTP/1.1 200 ").And.Contain("inner:/abs");
    }

    [Fact]
    public async Task Connect_MirrorHostOnAnotherPort_ForbiddenNoTunnel()
    {
        using var echo = new TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        var echoPort = ((IPEndPoint)echo.LocalEndpoint).Port;
        await using var mirror = await TestUpstream.StartAsync(ctx => ctx.Response.WriteAsync("mirror"));
        await using var daemon = await TestDfdaemon.StartAsync(remote: mirror.Address);
        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();

        await s.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{echoPort} HTTP/1.1\r\nHost: 127.0.0.1:{echoPort}\r\n\r\n"), Timeout());

        (await ReadHeadAsync(s)).Should().StartWith("HTTP/1.1 403 ", "the mirror is 127.0.0.1:{0}, not every port of 127.0.0.1", mirror.Port);
        echo.Pending().Should().BeFalse("no tunnel was dialled");
        daemon.Services.GetRequiredService<DfdaemonMetrics>().Tunnels.Should().Be(0);
    }

    [Theory]
    [InlineData(22)]
    [InlineData(8443)]
    public async Task Connect_HijackHostOnAnotherPort_Forbidden(int port)
    {
        using var dir = new TempDirectory();
        var (caCert, caKey, ca) = TestCertificates.WriteCa(dir.Path);
        using var _ = ca;
        await using var daemon = await TestDfdaemon.StartAsync(o => o with
        {
            HijackHttps = new HijackHttpsOptions(caCert, caKey, [new HijackHost(new Regex("^127\\.0\\.0\\.1$"), true, [])]),
        });
        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();

        await s.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n"), Timeout());

        (await ReadHeadAsync(s)).Should().StartWith("HTTP/1.1 403 ", "the hijack host is 127.0.0.1 on 443 only");
        daemon.Services.GetRequiredService<DfdaemonMetrics>().Hijacked.Should().Be(0);
    }

    [Fact]
    public async Task Connect_AfterAnotherRequestOnTheConnection_BadRequestAndClosed()
    {
        var seen = new List<string>();
        await using var mirror = await TestUpstream.StartAsync(ctx =>
        {
            lock (seen)
            {
                seen.Add(ctx.Request.Method);
            }

            return ctx.Response.WriteAsync("mirror");
        });
        await using var daemon = await TestDfdaemon.StartAsync(o => o with { OpenProxy = true }, remote: mirror.Address);
        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();

        await s.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /_ping HTTP/1.1\r\nHost: {daemon.Address.Authority}\r\n\r\n"
            + $"CONNECT 127.0.0.1:{mirror.Port} HTTP/1.1\r\nHost: 127.0.0.1:{mirror.Port}\r\n\r\n"), Timeout());

        var responses = await ReadToEndAsync(s);
        responses.Should().StartWith("HTTP/1.1 200 ");
        responses.Should().Contain("HTTP/1.1 400 ").And.Contain("CONNECT must be the first request on a connection");
        responses[responses.IndexOf("HTTP/1.1 400 ", StringComparison.Ordinal)..].Should().ContainEquivalentOf("Connection: close");
        seen.Should().BeEmpty("the late CONNECT never reaches the mirror");
    }

    [Theory]
    [InlineData("CONN")]
    [InlineData("CONNECT a.example:443 HTTP/1.1\r\nHost: a.exa")]
    public async Task Connect_HeadNeverFinished_ClosedAfterTheHeadTimeout_OnDfdaemonsClock(string partial)
    {
        var time = new FakeTimeProvider();
        await using var daemon = await TestDfdaemon.StartAsync(
            o => o with { Proxies = [new ProxyRule(new Regex(".*"), false, true, null)] },
            s => s.AddSingleton<TimeProvider>(time));
        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();
        await s.WriteAsync(Encoding.ASCII.GetBytes(partial), Timeout());

        var end = s.ReadAsync(new byte[64], Timeout()).AsTask();
        time.Advance(ConnectHandler.HeaderTimeout - TimeSpan.FromSeconds(1));
        (await Task.WhenAny(end, Task.Delay(300))).Should().NotBeSameAs(end, "the head's time has not passed yet");
        await AdvanceUntilAsync(time, end);

        end.IsCompleted.Should().BeTrue("a head that never ends is given up after the head timeout on dfdaemon's clock");
        (await end).Should().Be(0, "nothing is answered to a head that never ended");
    }

    [Fact]
    public async Task Connect_HijackedTunnelWithoutHandshake_ClosedAfterTheDialTimeout_OnDfdaemonsClock()
    {
        using var dir = new TempDirectory();
        var (caCert, caKey, ca) = TestCertificates.WriteCa(dir.Path);
        using var _ = ca;
        var time = new FakeTimeProvider();
        await using var daemon = await TestDfdaemon.StartAsync(
            o => o with { HijackHttps = new HijackHttpsOptions(caCert, caKey, [new HijackHost(new Regex("^127\\.0\\.0\\.1$"), true, [], Port: 9)]) },
            s => s.AddSingleton<TimeProvider>(time));
        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();
        await s.WriteAsync("CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n"u8.ToArray(), Timeout());
        (await ReadHeadAsync(s)).Should().StartWith("HTTP/1.1 200");

        var end = s.ReadAsync(new byte[64], Timeout()).AsTask();
        time.Advance(ConnectHandler.DialTimeout - TimeSpan.FromSeconds(1));
        (await Task.WhenAny(end, Task.Delay(300))).Should().NotBeSameAs(end, "the handshake's time has not passed yet");
        await AdvanceUntilAsync(time, end);

        end.IsCompleted.Should().BeTrue("a client that never starts its TLS handshake is given up after the dial timeout on dfdaemon's clock");
        (await end).Should().Be(0);
    }

    /// <summary>Advances <paramref name="time"/> in 2 s steps until <paramref name="end"/> completes (a timer armed after
    /// an advance is still passed by the next), for at most 100 steps.</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Task end)
    {
        for (var i = 0; i < 100 && !end.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(2));
            await Task.WhenAny(end, Task.Delay(50));
        }
    }

    /// <summary>CONNECTs to <paramref name="authority"/> (a hijack host) and returns the TLS stream, trusting only <paramref name="ca"/>.</summary>
    private static async Task<SslStream> HijackedTunnelAsync(TestDfdaemon daemon, string authority, X509Certificate2 ca)
    {
        var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();
        await s.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"), Timeout());
        (await ReadHeadAsync(s)).Should().StartWith("HTTP/1.1 200");
        var tls = new SslStream(s, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = authority[..authority.LastIndexOf(':')],
                RemoteCertificateValidationCallback = TestCertificates.TrustOnly(ca),
            },
            Timeout());
        return tls;
    }

    private static async Task<string> ReadToEndAsync(Stream s)
    {
        using var all = new MemoryStream();
        await s.CopyToAsync(all, Timeout());
        return Encoding.Latin1.GetString(all.ToArray());
    }

    private static async Task<string> ReadHeadAsync(Stream s)
    {
        var sb = new StringBuilder();
        var one = new byte[1];
        while (!sb.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await s.ReadAsync(one, Timeout()) == 0)
            {
                break;
            }

            sb.Append((char)one[0]);
        }

        return sb.ToString();
    }
}
