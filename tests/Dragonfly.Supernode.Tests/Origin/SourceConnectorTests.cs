using System.Net;
using Dragonfly.Supernode.Origin;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Supernode.Tests.Origin;

/// <summary>
/// The source address policy on real loopback sockets, through the <see cref="OriginClient"/> the CDN and the task
/// manager use: the origin listens on 127.0.0.1, a redirector on [::1].
/// </summary>
public sealed class SourceConnectorTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private OriginServer _origin = null!;

    public async Task InitializeAsync()
    {
        _origin = await OriginServer.StartAsync(_timeout.Token);
        _origin.AddFile("/a.bin", 12345);
    }

    public async Task DisposeAsync()
    {
        await _origin.DisposeAsync();
        _timeout.Dispose();
    }

    [Fact]
    public async Task ProbeAsync_LoopbackDenied_AddressNotAllowedAndNothingSent()
    {
        using var client = Client(allow: [], deny: ["127.0.0.0/8"]);

        var probe = await client.ProbeAsync(Request(_origin.Url("/a.bin")), _timeout.Token);

        probe.Status.Should().Be(OriginProbeStatus.AddressNotAllowed);
        probe.Error.Should().Be("source address 127.0.0.1 is not allowed by the supernode's source address policy (sourceAllow/sourceDeny)");
        _origin.RequestCount.Should().Be(0);
    }

    [Theory]
    [InlineData(new string[0], new[] { "169.254.0.0/16", "fe80::/10" })]
    [InlineData(new[] { "127.0.0.0/8" }, new string[0])]
    [InlineData(new[] { "127.0.0.1" }, new[] { "127.0.0.2" })]
    public async Task ProbeAsync_LoopbackNotDeniedAndAllowed_Ok(string[] allow, string[] deny)
    {
        using var client = Client(allow, deny);

        var probe = await client.ProbeAsync(Request(_origin.Url("/a.bin")), _timeout.Token);

        probe.Should().Be(new OriginProbe(OriginProbeStatus.Ok, 12345, 200));
    }

    [Fact]
    public async Task ProbeAsync_AllowListWithoutLoopback_AddressNotAllowed()
    {
        using var client = Client(allow: ["10.0.0.0/8"], deny: []);

        (await client.ProbeAsync(Request(_origin.Url("/a.bin")), _timeout.Token)).Status.Should().Be(OriginProbeStatus.AddressNotAllowed);
        _origin.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task ProbeAsync_HostNameResolvingOnlyToDeniedAddresses_AddressNotAllowed()
    {
        using var client = Client(allow: [], deny: ["127.0.0.0/8", "::1"]);
        var url = new UriBuilder(_origin.Url("/a.bin")) { Host = "localhost" }.Uri;

        var probe = await client.ProbeAsync(Request(url), _timeout.Token);

        probe.Status.Should().Be(OriginProbeStatus.AddressNotAllowed);
        probe.Error.Should().Contain("of localhost");
        _origin.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task GetAsync_LoopbackDenied_ThrowsHttpRequestExceptionCarryingTheRefusal()
    {
        using var client = Client(allow: [], deny: ["127.0.0.0/8"]);

        var act = () => client.GetAsync(Request(_origin.Url("/a.bin")), null, _timeout.Token);

        var thrown = (await act.Should().ThrowAsync<HttpRequestException>()).Which;
        SourceAddressNotAllowedException.Find(thrown).Should().NotBeNull();
        thrown.Message.Should().Contain("not allowed by the supernode's source address policy");
        _origin.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task ProbeAndGet_RedirectFromAnAllowedHostToADeniedOne_Refused()
    {
        await using var redirector = await Redirector.StartAsync(_origin.Url("/a.bin"), _timeout.Token);
        using var open = Client(allow: [], deny: []);
        using var guarded = Client(allow: [], deny: ["127.0.0.0/8"]);

        // Without a policy the redirect is followed to the origin...
        (await open.ProbeAsync(Request(redirector.Url), _timeout.Token)).Should().Be(new OriginProbe(OriginProbeStatus.Ok, 12345, 200));
        _origin.RequestCount.Should().Be(1);
        redirector.Requests.Should().Be(1);

        // ...with 127.0.0.0/8 denied the first hop ([::1]) is asked, and the second never connected to.
        var probe = await guarded.ProbeAsync(Request(redirector.Url), _timeout.Token);
        var get = () => guarded.GetAsync(Request(redirector.Url), null, _timeout.Token);

        probe.Status.Should().Be(OriginProbeStatus.AddressNotAllowed);
        probe.Error.Should().Contain("127.0.0.1");
        SourceAddressNotAllowedException.Find((await get.Should().ThrowAsync<HttpRequestException>()).Which).Should().NotBeNull();
        redirector.Requests.Should().Be(3);
        _origin.RequestCount.Should().Be(1);
    }

    [Fact]
    public void Apply_UnrestrictedPolicy_LeavesTheHandlerAsItWas()
    {
        using var handler = new SocketsHttpHandler();
        Connector(SourceAddressPolicy.AllowAll).Apply(handler);
        handler.ConnectCallback.Should().BeNull();
        handler.UseProxy.Should().BeTrue();

        Connector(SourceAddressPolicyTests.Policy(allow: [], deny: ["169.254.0.0/16"])).Apply(handler);
        handler.ConnectCallback.Should().NotBeNull();
        handler.UseProxy.Should().BeFalse("through a proxy the policy would judge the proxy's address");
    }

    private static OriginRequest Request(Uri url) => new(url, new Dictionary<string, string>());

    private static SourceConnector Connector(SourceAddressPolicy policy) => new(policy, NullLogger<SourceConnector>.Instance);

    private static OriginClient Client(string[] allow, string[] deny) =>
        new(Connector(SourceAddressPolicyTests.Policy(allow, deny)), NullLogger<OriginClient>.Instance);

    /// <summary>Answers every request on [::1] with a 302 to the target.</summary>
    private sealed class Redirector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private Redirector(WebApplication app) => _app = app;

        public Uri Url { get; private set; } = null!;

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<Redirector> StartAsync(Uri target, CancellationToken cancellationToken)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.IPv6Loopback, 0));
            var app = builder.Build();
            var redirector = new Redirector(app);
            app.Run(context =>
            {
                Interlocked.Increment(ref redirector._requests);
                context.Response.Redirect(target.ToString());
                return Task.CompletedTask;
            });
            await app.StartAsync(cancellationToken);
            redirector.Url = new Uri($"http://[::1]:{new Uri(app.Urls.First()).Port}/moved.bin");
            return redirector;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
