using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>
/// An admin token with lockouts after 3 wrong tokens within a minute, for 2 minutes, on a clock the tests move
/// (<see cref="Clock"/>, the host's <see cref="TimeProvider"/>).
/// </summary>
public sealed class AdminLockoutApiFactory : AdminTokenApiFactory
{
    public FakeTimeProvider Clock { get; } = new();

    protected override int MaxFailures => 3;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
    }

    protected override string ExtraConfig(string home) => base.ExtraConfig(home) + "  adminFailureWindow: 1m\n  adminLockout: 2m\n";
}

/// <summary>
/// Failed-attempt throttling and bounded refusal logging over the real Program: each test speaks for its own client
/// addresses (<see cref="AdminTokenApiFactory.ClientHeader"/>), so the shared host's state does not mix between tests.
/// </summary>
public sealed class AdminLockoutTests(AdminLockoutApiFactory factory) : IClassFixture<AdminLockoutApiFactory>
{
    private const string Protected = "/api/v1/preheats/unknown";
    private const string Right = "Bearer " + AdminTokenApiFactory.Token;
    private const string Wrong = "Bearer wrong-token-0123456789abcdef";
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task WrongTokens_ReachTheLimit_EveryProtectedRequest429WithRetryAfterEvenWithTheRightTokenUntilTheLockoutEnds()
    {
        const string guesser = "198.51.100.1";
        for (var i = 0; i < 3; i++)
        {
            (await DeleteAsync(guesser, Wrong)).Status.Should().Be(HttpStatusCode.Forbidden, $"wrong token {i + 1} of 3");
        }

        var (status, retryAfter, body) = await DeleteAsync(guesser, Right);
        status.Should().Be(HttpStatusCode.TooManyRequests, "a lockout that let the right token through would tell a guesser which guesses were wrong");
        retryAfter.Should().Be("120");
        AdminAccessTests.Code(body).Should().Be(429);
        (await DeleteAsync(guesser, Wrong)).Status.Should().Be(HttpStatusCode.TooManyRequests);
        (await DeleteAsync(guesser, authorization: null)).Status.Should().Be(HttpStatusCode.TooManyRequests);

        (await DeleteAsync("198.51.100.2", Right)).Status.Should().Be(HttpStatusCode.NotFound, "another client is not locked out");
        (await AdminAccessTests.SendAsync(_client, "GET", "/_ping", authorization: null, from: guesser)).Status.Should().Be(HttpStatusCode.OK);
        (await AdminAccessTests.SendAsync(_client, "GET", "/version", authorization: null, from: guesser)).Status.Should().Be(HttpStatusCode.OK);
        (await AdminAccessTests.SendAsync(_client, "GET", "/metrics", authorization: null, from: guesser)).Status.Should().Be(HttpStatusCode.OK);
        (await AdminAccessTests.SendAsync(_client, "GET", "/api/v1/preheats", Wrong, from: guesser)).Status.Should().Be(HttpStatusCode.OK, "an open view is never throttled");
        (await AdminAccessTests.SendAsync(_client, "POST", "/api/v1/peers", authorization: null, """{"IP":"127.0.0.1","hostName":"locked","port":15310}""", from: guesser))
            .Status.Should().Be(HttpStatusCode.Created, "the data plane is never throttled");

        factory.Clock.Advance(TimeSpan.FromSeconds(90));
        (await DeleteAsync(guesser, Right)).RetryAfter.Should().Be("30");

        factory.Clock.Advance(TimeSpan.FromSeconds(30));
        (await DeleteAsync(guesser, Right)).Status.Should().Be(HttpStatusCode.NotFound, "the lockout has ended");
    }

    /// <summary>A missing token tests no guess (clients and browsers try without credentials first): it never locks out.</summary>
    [Fact]
    public async Task MissingTokens_ManyOfThem_NeverLockOut()
    {
        const string client = "198.51.100.3";
        for (var i = 0; i < 10; i++)
        {
            (await DeleteAsync(client, authorization: null)).Status.Should().Be(HttpStatusCode.Unauthorized);
        }

        (await DeleteAsync(client, Right)).Status.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task WrongTokens_FromOneIpv6Slash64_CountAsOneClient()
    {
        (await DeleteAsync("2001:db8:7:1::1", Wrong)).Status.Should().Be(HttpStatusCode.Forbidden);
        (await DeleteAsync("2001:db8:7:1::2", Wrong)).Status.Should().Be(HttpStatusCode.Forbidden);
        (await DeleteAsync("2001:db8:7:1:ffff::3", Wrong)).Status.Should().Be(HttpStatusCode.Forbidden);

        (await DeleteAsync("2001:db8:7:1::4", Right)).Status.Should().Be(HttpStatusCode.TooManyRequests);
        (await DeleteAsync("2001:db8:7:2::4", Right)).Status.Should().Be(HttpStatusCode.NotFound, "another /64 is another client");
    }

    [Fact]
    public async Task Metrics_CountRefusalsByStatusAndLockouts()
    {
        const string client = "198.51.100.4";
        var before = await MetricsAsync();
        await DeleteAsync(client, authorization: null);
        for (var i = 0; i < 3; i++)
        {
            await DeleteAsync(client, Wrong);
        }

        await DeleteAsync(client, Right);

        var after = await MetricsAsync();
        Delta("dragonfly_supernode_admin_refusals_total{code=\"401\"}").Should().Be(1);
        Delta("dragonfly_supernode_admin_refusals_total{code=\"403\"}").Should().Be(3);
        Delta("dragonfly_supernode_admin_refusals_total{code=\"429\"}").Should().Be(1);
        Delta("dragonfly_supernode_admin_lockouts_total").Should().Be(1);

        double Delta(string series) => Value(after, series) - Value(before, series);
    }

    /// <summary>
    /// A client refused 30 times within a window gets one log line (and one for its lockout), then one summary of the
    /// rest once the window has passed.
    /// </summary>
    [Fact]
    public async Task Log_ManyRefusalsFromOneClient_OneLineThenOneSummary()
    {
        const string client = "198.51.100.5";
        for (var i = 0; i < 30; i++)
        {
            await DeleteAsync(client, Wrong);
        }

        var log = await AdminAccessTests.ReadLogAsync(factory.HomeDir);
        Regex.Count(log, $"Refused [A-Z]+ \\S+ from {Regex.Escape(client)} ").Should().Be(1, log);
        log.Should().Contain($"Locked {client} out of the management routes for 2m (HTTP 429, even with the right token) after 3 wrong admin tokens within 1m");

        factory.Clock.Advance(TimeSpan.FromMinutes(1));

        log = await AdminAccessTests.ReadLogAsync(factory.HomeDir);
        log.Should().Contain($"Refused 29 more requests to the management routes from {client} within 1m of the one logged");
        log.Should().NotContain(AdminTokenApiFactory.Token);
    }

    private async Task<(HttpStatusCode Status, string? RetryAfter, string Body)> DeleteAsync(string client, string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Protected);
        request.Headers.Add(AdminTokenApiFactory.ClientHeader, client);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await _client.SendAsync(request);
        return (response.StatusCode, response.Headers.RetryAfter?.ToString(), await response.Content.ReadAsStringAsync());
    }

    private Task<string> MetricsAsync() => _client.GetStringAsync("/metrics");

    private static double Value(string metrics, string series)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
