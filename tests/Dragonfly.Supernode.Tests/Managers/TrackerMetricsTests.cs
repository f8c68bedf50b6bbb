using System.Diagnostics.Metrics;
using Dragonfly.Supernode.Managers;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Metrics;
using Dragonfly.Supernode.Tests.Managers.Support;

namespace Dragonfly.Supernode.Tests.Managers;

public sealed class TrackerMetricsTests : IDisposable
{
    private readonly Tracker _tracker = new();
    private readonly MeterListener _listener = new();
    private readonly List<(string Name, long Value, Dictionary<string, object?> Tags)> _measurements = [];

    public TrackerMetricsTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == _tracker.Metrics.Meter)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var dict = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                dict[tag.Key] = tag.Value;
            }

            lock (_measurements)
            {
                _measurements.Add((instrument.Name, value, dict));
            }
        });
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            var dict = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                dict[tag.Key] = tag.Value;
            }

            lock (_measurements)
            {
                _measurements.Add((instrument.Name, value, dict));
            }
        });
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _tracker.Dispose();
    }

    [Fact]
    public async Task Registration_CountsTaskAndDfgetTask()
    {
        await _tracker.RegisterAsync();
        await _tracker.RegisterAsync();

        _measurements.Count(m => m.Name == "dragonfly_supernode_tasks_registered_total").Should().Be(1);
        _measurements.Where(m => m.Name == "dragonfly_supernode_dfgettasks_registered_total")
            .Should().HaveCount(2).And.OnlyContain(m => (string?)m.Tags["callsystem"] == "test");
    }

    [Fact]
    public async Task Registration_LongOrManyDistinctCallSystems_LabelsStayBounded()
    {
        await _tracker.RegisterAsync(_tracker.Request() with { CallSystem = new string('x', 256) });
        for (var i = 0; i < DfgetReportLabels.MaxCallSystems + 50; i++)
        {
            await _tracker.RegisterAsync(_tracker.Request() with { CallSystem = $"flood{i}" });
        }

        _ = new TrackerGauges(_tracker.Metrics, _tracker.Tasks, _tracker.Peers, _tracker.DfgetTasks);
        _listener.RecordObservableInstruments();

        var registered = _measurements.Where(m => m.Name == "dragonfly_supernode_dfgettasks_registered_total").Select(m => (string)m.Tags["callsystem"]!).ToList();
        registered.Should().HaveCount(DfgetReportLabels.MaxCallSystems + 51);
        registered[0].Should().Be(DfgetReportLabels.Other, "a 256-character call system is no label");
        registered.Distinct().Should().HaveCount(DfgetReportLabels.MaxCallSystems + 1, "the first 100 tags and 'other'");
        _measurements.Where(m => m.Name == "dragonfly_supernode_dfgettasks").Select(m => (string)m.Tags["callsystem"]!)
            .Should().OnlyContain(c => c.Length <= DfgetReportLabels.MaxCallSystemLength).And.HaveCount(DfgetReportLabels.MaxCallSystems + 1);
    }

    [Fact]
    public async Task PieceSuccess_CountsBytesBySource()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 1);
        var piece = ((PullOutcome.Continue)await _tracker.PullAsync(client)).Pieces.Single();

        _tracker.Pull.ReportPieceSuccess(client.TaskId.Value, client.Cid.Value, piece.Cid.Value, piece.Range.ToString());

        _measurements.Should().ContainSingle(m => m.Name == "dragonfly_supernode_pieces_downloaded_size_bytes_total")
            .Which.Should().Match<(string Name, long Value, Dictionary<string, object?> Tags)>(m => m.Value == 4 * 1024 * 1024 && (string?)m.Tags["source"] == "supernode");
    }

    [Fact]
    public async Task PieceSuccess_FoundOnTheClientsDisk_CountsAsReusedNotDownloaded()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 1);
        var piece = ((PullOutcome.Continue)await _tracker.PullAsync(client)).Pieces.Single();

        _tracker.Pull.ReportPieceSuccess(client.TaskId.Value, client.Cid.Value, client.Cid.Value, piece.Range.ToString())
            .Should().Be(PieceReportOutcome.Recorded);

        _measurements.Should().NotContain(m => m.Name.StartsWith("dragonfly_supernode_pieces_downloaded", StringComparison.Ordinal));
        _measurements.Should().ContainSingle(m => m.Name == "dragonfly_supernode_pieces_reused_total").Which.Value.Should().Be(1);
    }

    [Fact]
    public async Task Gauges_ReportTasksByCdnStatus()
    {
        await _tracker.RegisterAsync();
        _ = new TrackerGauges(_tracker.Metrics, _tracker.Tasks, _tracker.Peers, _tracker.DfgetTasks);

        _listener.RecordObservableInstruments();

        _measurements.Should().Contain(m => m.Name == "dragonfly_supernode_tasks" && m.Value == 1 && (string?)m.Tags["cdnstatus"] == "RUNNING");
        _measurements.Should().Contain(m => m.Name == "dragonfly_supernode_peers" && m.Value == 1);
        _measurements.Should().Contain(m => m.Name == "dragonfly_supernode_dfgettasks" && m.Value == 1 && (string?)m.Tags["status"] == "WAITING");
    }
}
