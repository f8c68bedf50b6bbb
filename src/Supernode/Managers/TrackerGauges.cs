using System.Diagnostics.Metrics;
using Dragonfly.Supernode.Managers.DfgetTasks;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Tasks;
using Microsoft.Extensions.Hosting;

namespace Dragonfly.Supernode.Managers;

/// <summary>
/// Observable gauges over the managers' current state (PROTOCOL §2.10): <c>dragonfly_supernode_tasks{cdnstatus}</c>,
/// <c>dragonfly_supernode_peers</c>, <c>dragonfly_supernode_dfgettasks{callsystem,status}</c>. A hosted service only so
/// that the host creates it at start; the values are computed when a collector reads them.
/// </summary>
public sealed class TrackerGauges : IHostedService
{
    public TrackerGauges(TrackerMetrics metrics, ITaskMgr tasks, IPeerMgr peers, IDfgetTaskMgr dfgetTasks)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(dfgetTasks);
        metrics.Meter.CreateObservableGauge("dragonfly_supernode_tasks", () => TaskCounts(tasks), description: "Tasks by CDN status.");
        metrics.Meter.CreateObservableGauge("dragonfly_supernode_peers", () => peers.Count, description: "Registered peers.");
        metrics.Meter.CreateObservableGauge("dragonfly_supernode_dfgettasks", () => DfgetTaskCounts(dfgetTasks, metrics.CallSystemLabel), description: "Dfget-tasks by call system and status.");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    internal static IEnumerable<Measurement<int>> TaskCounts(ITaskMgr tasks)
    {
        var counts = new int[Enum.GetValues<CdnStatus>().Length];
        foreach (var task in tasks.List())
        {
            counts[(int)task.CdnStatus]++;
        }

        foreach (var status in Enum.GetValues<CdnStatus>())
        {
            yield return new Measurement<int>(counts[(int)status], new KeyValuePair<string, object?>("cdnstatus", status.ToWire()));
        }
    }

    internal static IEnumerable<Measurement<int>> DfgetTaskCounts(IDfgetTaskMgr dfgetTasks, Func<string?, string> callSystemLabel)
    {
        var counts = new Dictionary<(string, DfgetTaskStatus), int>();
        foreach (var task in dfgetTasks.List())
        {
            var key = (callSystemLabel(task.CallSystem), task.Status);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        foreach (var ((callSystem, status), count) in counts)
        {
            yield return new Measurement<int>(count, new KeyValuePair<string, object?>("callsystem", callSystem),
                new KeyValuePair<string, object?>("status", status.ToWire()));
        }
    }
}
