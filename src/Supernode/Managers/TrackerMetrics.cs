using System.Diagnostics.Metrics;
using Dragonfly.Supernode.Metrics;

namespace Dragonfly.Supernode.Managers;

/// <summary>
/// The tracker's instruments on the meter <c>Dragonfly.Supernode</c>. Instrument names are the Prometheus names of
/// PROTOCOL §2.10 (the exporter writes them as-is); tags become labels. The client's free-text call system (up to 256
/// characters) is bounded by <see cref="DfgetReportLabels"/> before it becomes a <c>callsystem</c> label.
/// </summary>
public sealed class TrackerMetrics
{
    /// <summary>The meter name shared by the supernode's instruments.</summary>
    public const string MeterName = "Dragonfly.Supernode";

    private readonly Counter<long> _tasksRegistered;
    private readonly Counter<long> _dfgetTasksRegistered;
    private readonly Counter<long> _dfgetTasksFailed;
    private readonly Counter<long> _gcTasks;
    private readonly Counter<long> _gcPeers;
    private readonly Counter<long> _piecesDownloaded;
    private readonly Counter<long> _piecesDownloadedBytes;
    private readonly Counter<long> _piecesReused;
    private readonly Histogram<double> _scheduleDuration;
    private readonly DfgetReportLabels _labels = new();

    public TrackerMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _tasksRegistered = Meter.CreateCounter<long>("dragonfly_supernode_tasks_registered_total", description: "Tasks created by registrations.");
        _dfgetTasksRegistered = Meter.CreateCounter<long>("dragonfly_supernode_dfgettasks_registered_total", description: "Dfget-tasks registered (tag callsystem).");
        _dfgetTasksFailed = Meter.CreateCounter<long>("dragonfly_supernode_dfgettasks_failed_total", description: "Dfget-tasks that ended FAILED (tag callsystem).");
        _gcTasks = Meter.CreateCounter<long>("dragonfly_supernode_gc_tasks_total", description: "Tasks collected by GC.");
        _gcPeers = Meter.CreateCounter<long>("dragonfly_supernode_gc_peers_total", description: "Peers collected by GC.");
        _piecesDownloaded = Meter.CreateCounter<long>("dragonfly_supernode_pieces_downloaded_total", description: "Pieces clients got (tag source=supernode|peer).");
        _piecesDownloadedBytes = Meter.CreateCounter<long>("dragonfly_supernode_pieces_downloaded_size_bytes_total", unit: "By", description: "Wrapped piece bytes clients got (tag source=supernode|peer).");
        _piecesReused = Meter.CreateCounter<long>(
            "dragonfly_supernode_pieces_reused_total",
            description: "Pieces a client already had on disk when scheduled again after registering anew; not downloaded, so not in pieces_downloaded.");
        _scheduleDuration = Meter.CreateHistogram<double>("dragonfly_supernode_schedule_duration_milliseconds", unit: "ms", description: "Time to schedule one pull.");
    }

    /// <summary>The meter; other supernode components may add instruments to it.</summary>
    public Meter Meter { get; }

    public void TaskRegistered() => _tasksRegistered.Add(1);

    public void DfgetTaskRegistered(string? callSystem) => _dfgetTasksRegistered.Add(1, new KeyValuePair<string, object?>("callsystem", CallSystemLabel(callSystem)));

    public void DfgetTaskFailed(string? callSystem) => _dfgetTasksFailed.Add(1, new KeyValuePair<string, object?>("callsystem", CallSystemLabel(callSystem)));

    /// <summary>The bounded <c>callsystem</c> label of a client's call system (the same value for every instrument here).</summary>
    public string CallSystemLabel(string? callSystem) => _labels.CallSystem(callSystem);

    public void TasksCollected(int count)
    {
        if (count > 0)
        {
            _gcTasks.Add(count);
        }
    }

    public void PeersCollected(int count)
    {
        if (count > 0)
        {
            _gcPeers.Add(count);
        }
    }

    public void PieceServed(bool fromSupernode, long bytes)
    {
        var tag = new KeyValuePair<string, object?>("source", fromSupernode ? "supernode" : "peer");
        _piecesDownloaded.Add(1, tag);
        if (bytes > 0)
        {
            _piecesDownloadedBytes.Add(bytes, tag);
        }
    }

    public void PieceReused() => _piecesReused.Add(1);

    public void ScheduleDuration(double milliseconds) => _scheduleDuration.Record(milliseconds);
}
