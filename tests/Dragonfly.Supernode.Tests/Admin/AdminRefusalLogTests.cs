using System.Net;
using Dragonfly.Supernode.Admin;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Tests.Admin;

/// <summary>Bounded refusal logging on a clock the test moves: one line per client per minute, then one summary.</summary>
public sealed class AdminRefusalLogTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly ListLoggerProvider _lines = new();
    private readonly LoggerFactory _loggers;
    private readonly AdminRefusalLog _log;

    public AdminRefusalLogTests()
    {
        _loggers = new LoggerFactory([_lines]);
        _log = New(capacity: 4);
    }

    public void Dispose()
    {
        _log.Dispose();
        _loggers.Dispose();
    }

    [Fact]
    public void Refused_ManyTimesByOneClientInAWindow_OneLineThenOneSummaryWhenTheWindowEnds()
    {
        for (var i = 0; i < 100; i++)
        {
            Refuse("192.0.2.1", 403);
        }

        _lines.Lines.Should().ContainSingle().Which.Should().Be("Warning AdminRefusalLog: Refused DELETE /api/v1/tasks/x from 192.0.2.1 with HTTP 403: the management routes need the admin token");

        _clock.Advance(TimeSpan.FromMinutes(1));

        _lines.Lines.Should().HaveCount(2);
        _lines.Lines.Last().Should().Be("Warning AdminRefusalLog: Refused 99 more requests to the management routes from 192.0.2.1 within 1m of the one logged (not logged one by one)");
    }

    [Fact]
    public void Refused_AfterTheWindowBeforeTheSweep_LogsTheSummaryThenTheRefusal()
    {
        using var log = New(capacity: 4);
        _clock.Advance(TimeSpan.FromSeconds(30));
        Refuse(log, "192.0.2.1", 401);
        Refuse(log, "192.0.2.1", 401);
        Refuse(log, "192.0.2.1", 403);

        _clock.Advance(TimeSpan.FromSeconds(60));
        Refuse(log, "192.0.2.1", 429);

        _lines.Lines.Should().HaveCount(3);
        _lines.Lines.ElementAt(1).Should().Contain("Refused 2 more requests to the management routes from 192.0.2.1");
        _lines.Lines.ElementAt(2).Should().Contain("from 192.0.2.1 with HTTP 429");
    }

    [Fact]
    public void Refused_ByTwoClients_EachLoggedOnce()
    {
        Refuse("192.0.2.1", 401);
        Refuse("192.0.2.2", 401);
        Refuse("192.0.2.1", 401);
        Refuse("192.0.2.2", 401);

        _lines.Lines.Should().HaveCount(2);
        _lines.Lines.Should().Contain(l => l.Contains("from 192.0.2.1 with", StringComparison.Ordinal))
            .And.Contain(l => l.Contains("from 192.0.2.2 with", StringComparison.Ordinal));
    }

    [Fact]
    public void Refused_WindowEndedWithNothingSuppressed_NoSummary()
    {
        Refuse("192.0.2.1", 403);

        _clock.Advance(TimeSpan.FromMinutes(5));

        _lines.Lines.Should().ContainSingle();
    }

    /// <summary>
    /// Refusals from a thousand addresses, more than the four tracked: a bounded number of lines (one per tracked client,
    /// one for the rest), and one summary for the rest once the window has passed.
    /// </summary>
    [Fact]
    public void Refused_FromMoreAddressesThanTracked_BoundedLinesAndASharedSummary()
    {
        for (var i = 0; i < 1000; i++)
        {
            Refuse($"10.0.{i / 256}.{i % 256}", 403);
        }

        _lines.Lines.Should().HaveCount(5);
        _lines.Lines.Last().Should().Contain("from 10.0.0.4 with HTTP 403");

        _clock.Advance(TimeSpan.FromMinutes(1));

        _lines.Lines.Should().HaveCount(6);
        _lines.Lines.Last().Should().Be("Warning AdminRefusalLog: Refused 995 more requests to the management routes from clients beyond the 4 tracked within 1m of the one logged (not logged one by one)");
    }

    private AdminRefusalLog New(int capacity) => new(_clock, _loggers.CreateLogger<AdminRefusalLog>(), capacity);

    private void Refuse(string remote, int status) => Refuse(_log, remote, status);

    private static void Refuse(AdminRefusalLog log, string remote, int status)
    {
        var address = IPAddress.Parse(remote);
        log.Refused("DELETE", "/api/v1/tasks/x", address, ClientAddress.Of(address), status);
    }
}
