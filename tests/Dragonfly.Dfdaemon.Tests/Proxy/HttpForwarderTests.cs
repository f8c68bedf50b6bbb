using System.Net;
using System.Net.Http.Headers;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.Dfdaemon.Downloading;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

/// <summary>Registry-mirror passthrough over real sockets: dfdaemon on 127.0.0.1:0 in front of a Kestrel upstream.</summary>
public class HttpForwarderTests
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task Forward_RepeatedAcceptHeaders_UpstreamSeesEveryValueInOrder()
    {
        string[]? seen = null;
        string? host = null;
        await using var upstream = await TestUpstream.StartAsync(ctx =>
        {
            seen = ctx.Request.Headers.Accept.SelectMany(v => v!.Split(',', StringSplitOptions.TrimEntries)).ToArray();
            host = ctx.Request.Host.Value;
            return ctx.Response.WriteAsync("manifest");
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: upstream.Address);
        using var client = daemon.MirrorClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/library/busybox/manifests/latest");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.docker.distribution.manifest.v2+json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.index.v1+json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.docker.distribution.manifest.list.v2+json"));

        using var response = await client.SendAsync(request, Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("manifest");
        seen.Should().Equal(
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json");
        host.Should().Be($"127.0.0.1:{upstream.Port}", "Host is the upstream's, not dfdaemon's");
    }

    [Fact]
    public async Task Forward_Head_ReturnsHeadersAndLengthWithoutBody()
    {
        string? method = null;
        string? query = null;
        await using var upstream = await TestUpstream.StartAsync(ctx =>
        {
            method = ctx.Request.Method;
            query = ctx.Request.QueryString.Value;
            ctx.Response.ContentLength = 1234;
            ctx.Response.Headers["Docker-Content-Digest"] = "sha256:abc";
            return Task.CompletedTask;
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: upstream.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/library/busybox/manifests/latest?ns=docker.io"), Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentLength.Should().Be(1234);
        response.Headers.GetValues("Docker-Content-Digest").Should().Equal("sha256:abc");
        method.Should().Be("HEAD");
        query.Should().BeNullOrEmpty("containerd's ns hint is stripped");
    }

    [Fact]
    public async Task Forward_Unauthorized_PassesStatusAndChallengeUnchanged()
    {
        const string challenge = "Bearer realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:x:pull\"";
        await using var upstream = await TestUpstream.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 401;
            ctx.Response.Headers.WWWAuthenticate = challenge;
            ctx.Response.ContentType = "application/json";
            return ctx.Response.WriteAsync("{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}");
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: upstream.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.GetAsync("/v2/", Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Be(challenge);
        (await response.Content.ReadAsStringAsync()).Should().Contain("UNAUTHORIZED");
    }

    [Fact]
    public async Task Forward_SlowUpstreamBody_StreamsBeforeUpstreamFinishes()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync(async ctx =>
        {
            ctx.Response.ContentLength = 10;
            await ctx.Response.WriteAsync("hello");
            await ctx.Response.Body.FlushAsync();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await ctx.Response.WriteAsync("world");
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: upstream.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.GetAsync("/v2/x/manifests/1", HttpCompletionOption.ResponseHeadersRead, Timeout());
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[5];
        await body.ReadExactlyAsync(buffer, Timeout());
        System.Text.Encoding.ASCII.GetString(buffer).Should().Be("hello", "the first bytes arrive while the upstream is still sending");
        release.SetResult();
        (await new StreamReader(body).ReadToEndAsync()).Should().Be("world");
    }

    [Fact]
    public async Task Forward_PostBody_StreamedToUpstreamWithStatus()
    {
        await using var upstream = await TestUpstream.StartAsync(async ctx =>
        {
            var text = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
            ctx.Response.StatusCode = 202;
            ctx.Response.Headers.Location = "/v2/x/blobs/uploads/1";
            await ctx.Response.WriteAsync("got " + text.Length);
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: upstream.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.PostAsync("/v2/x/blobs/uploads/", new ByteArrayContent(new byte[300_000]), Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        response.Headers.Location!.ToString().Should().Be("/v2/x/blobs/uploads/1");
        (await response.Content.ReadAsStringAsync()).Should().Be("got 300000");
    }

    [Fact]
    public async Task Forward_UpstreamDown_Answers502()
    {
        await using var daemon = await TestDfdaemon.StartAsync(remote: new Uri("http://127.0.0.1:1"));
        using var client = daemon.MirrorClient();
        using var response = await client.GetAsync("/v2/", Timeout());
        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
    }

    [Theory]
    [InlineData("/v2/x/manifests/latest", "X-Bad: caf\u00e9")]
    [InlineData("/v2/x/manifests/latest", "X-Bad: a\u0001b")]
    [InlineData("/v2/x/manifests/latest", "X-Bad: a\u007fb")]
    [InlineData("/v2/x/blobs/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "X-Bad: caf\u00e9")]
    public async Task Forward_UpstreamHeaderKestrelCannotSend_DroppedRestPassesThrough(string path, string badHeader)
    {
        await using var upstream = RawUpstream.Answering($"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n{badHeader}\r\nX-Good: yes\r\n\r\nok");
        await using var daemon = await TestDfdaemon.StartAsync(services: s => s.AddSingleton<IBlobFetcher>(RecordingBlobFetcher.Failing()), remote: upstream.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.GetAsync(path, Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.OK, daemon.Logs.Lines.LastOrDefault());
        (await response.Content.ReadAsStringAsync()).Should().Be("ok");
        response.Headers.GetValues("X-Good").Should().Equal("yes");
        response.Headers.Contains("X-Bad").Should().BeFalse();
        daemon.Logs.Lines.Should().Contain(l => l.Contains("Dropped response header X-Bad", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/v2/x/manifests/latest")]
    [InlineData("/v2/x/blobs/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public async Task Forward_UpstreamConflictingContentLength_Answers502(string path)
    {
        await using var upstream = RawUpstream.Answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!");
        await using var daemon = await TestDfdaemon.StartAsync(services: s => s.AddSingleton<IBlobFetcher>(RecordingBlobFetcher.Failing()), remote: upstream.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.GetAsync(path, Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync()).Should().Contain("Content-Length");
        daemon.Logs.Lines.Should().NotContain(l => l.StartsWith("Error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Forward_UpstreamRepeatsTheSameContentLength_PassedOnOnce()
    {
        await using var upstream = RawUpstream.Answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok");
        await using var daemon = await TestDfdaemon.StartAsync(remote: upstream.Address);
        using var client = daemon.MirrorClient();

        using var response = await client.GetAsync("/v2/x/manifests/latest", Timeout());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentLength.Should().Be(2);
        (await response.Content.ReadAsStringAsync()).Should().Be("ok");
    }

    [Theory]
    [InlineData("/v2/x/manifests/echo%3Fa=b", "/v2/x/manifests/echo%3Fa=b")]
    [InlineData("/v2/x/manifests/a%2541", "/v2/x/manifests/a%2541")]
    [InlineData("/v2/x/manifests/a%2Fb?c=%25&ns=docker.io", "/v2/x/manifests/a%2Fb?c=%25")]
    public async Task Forward_PercentEncodedTarget_ReachesTheUpstreamAsSent(string sent, string expected)
    {
        var seen = new List<string>();
        await using var upstream = await TestUpstream.StartAsync(ctx =>
        {
            lock (seen)
            {
                seen.Add(ctx.Features.Get<IHttpRequestFeature>()!.RawTarget);
            }

            return ctx.Response.WriteAsync("manifest");
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: upstream.Address);
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var stream = client.GetStream();

        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"GET {sent} HTTP/1.1\r\nHost: {daemon.Address.Authority}\r\nConnection: close\r\n\r\n"), Timeout());
        using var all = new MemoryStream();
        await stream.CopyToAsync(all, Timeout());

        System.Text.Encoding.ASCII.GetString(all.ToArray()).Should().StartWith("HTTP/1.1 200 ");
        seen.Should().Equal(expected);
    }
}
