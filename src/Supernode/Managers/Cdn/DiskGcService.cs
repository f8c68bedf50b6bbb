using Dragonfly.Common.Ids;
using Dragonfly.Common.Logging;
using Dragonfly.Supernode.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>
/// Disk GC (§2.8): every <see cref="CdnOptions.DiskGcInterval"/> (15 s), only when free space ≤ the young threshold
/// (100 GB). At or below the full threshold (5 GB) every file of tasks not in memory goes; otherwise candidates are
/// ordered (longest idle gap first, then periodically used tasks by size) and ⌈n·cleanRatio/10⌉ of them are removed.
/// </summary>
public sealed partial class DiskGcService : BackgroundService
{
    private readonly CdnOptions _options;
    private readonly IPieceStore _store;
    private readonly ICdnTaskPresence _presence;
    private readonly CdnMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<DiskGcService> _logger;
    private readonly FileMetadataStore _meta;

    public DiskGcService(IOptions<CdnOptions> options, IPieceStore store, ICdnTaskPresence presence, CdnMetrics metrics, TimeProvider time, ILogger<DiskGcService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(presence);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _store = store;
        _presence = presence;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _meta = new FileMetadataStore(store);
    }

    /// <summary>Time of the last disk GC pass that ran (for <c>dragonfly_supernode_last_gc_disks_timestamp_seconds</c>).</summary>
    public DateTimeOffset? LastRun { get; private set; }

    /// <summary>One GC pass; returns the task ids whose files were removed.</summary>
    public async Task<IReadOnlyList<TaskId>> RunOnceAsync(CancellationToken cancellationToken)
    {
        var free = _store.AvailableFreeSpace();
        if (free > _options.YoungGcThresholdBytes)
        {
            return [];
        }

        LastRun = _time.GetUtcNow();
        var candidates = _store.EnumerateTasks().Where(id => !_presence.IsInMemory(id)).ToList();
        List<TaskId> victims;
        if (free <= _options.FullGcThresholdBytes)
        {
            victims = candidates;
        }
        else
        {
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var threshold = (long)_options.IntervalThreshold.TotalMilliseconds;
            var gapTasks = new List<(TaskId Id, long Gap)>();
            var intervalTasks = new List<(TaskId Id, long Size)>();
            foreach (var id in candidates)
            {
                var meta = await _meta.ReadAsync(id, cancellationToken);
                var gap = meta is null ? long.MaxValue : now - meta.AccessTime;
                if (meta is { Interval: > 0 } && gap <= meta.Interval + threshold)
                {
                    intervalTasks.Add((id, Math.Max(0, _store.Length(id))));
                }
                else
                {
                    gapTasks.Add((id, gap));
                }
            }

            var take = (int)Math.Ceiling(candidates.Count * _options.CleanRatio / 10.0);
            victims = gapTasks.OrderByDescending(t => t.Gap).Select(t => t.Id)
                .Concat(intervalTasks.OrderByDescending(t => t.Size).Select(t => t.Id))
                .Take(take)
                .ToList();
        }

        // Choosing the victims awaited metadata reads: a task registered meanwhile is back in memory, and keeps its files.
        victims.RemoveAll(_presence.IsInMemory);
        foreach (var id in victims)
        {
            _store.Delete(id);
        }

        _metrics.DiskGcTasks.Add(victims.Count);
        Log.Collected(_logger, victims.Count, free);
        return victims;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.DiskGcInterval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.DiskGcInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Log.Failed(_logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.SupernodeGc + 50, Level = LogLevel.Information, Message = "Disk GC removed the files of {Count} tasks (free space {FreeBytes} bytes)")]
        public static partial void Collected(ILogger logger, int count, long freeBytes);

        [LoggerMessage(EventId = EventIds.SupernodeGc + 51, Level = LogLevel.Warning, Message = "Disk GC pass failed")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
