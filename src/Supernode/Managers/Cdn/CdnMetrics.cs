using System.Diagnostics.Metrics;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>The CDN's counters on the "Dragonfly.Supernode" meter (names as the original's <c>dragonfly_supernode_*</c>).</summary>
public sealed class CdnMetrics
{
    public const string MeterName = "Dragonfly.Supernode";

    public CdnMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        Triggers = meter.CreateCounter<long>("dragonfly_supernode_cdn_trigger_total", description: "CDN runs started");
        TriggerFailures = meter.CreateCounter<long>("dragonfly_supernode_cdn_trigger_failed_total", description: "CDN runs that failed");
        CacheHits = meter.CreateCounter<long>("dragonfly_supernode_cdn_cache_hit_total", description: "CDN runs served from the cache");
        Downloads = meter.CreateCounter<long>("dragonfly_supernode_cdn_download_total", description: "CDN source downloads");
        DownloadFailures = meter.CreateCounter<long>("dragonfly_supernode_cdn_download_failed_total", description: "CDN source downloads that failed");
        DownloadBytes = meter.CreateCounter<long>("dragonfly_supernode_cdn_download_size_bytes_total", unit: "By", description: "Source bytes downloaded by the CDN");
        DownloadPortBytes = meter.CreateCounter<long>("dragonfly_supernode_download_port_bytes_total", unit: "By", description: "Bytes served on the download port");
        DiskGcTasks = meter.CreateCounter<long>("dragonfly_supernode_gc_disks_total", description: "Tasks whose files disk GC removed");
    }

    public Counter<long> Triggers { get; }

    public Counter<long> TriggerFailures { get; }

    public Counter<long> CacheHits { get; }

    public Counter<long> Downloads { get; }

    public Counter<long> DownloadFailures { get; }

    public Counter<long> DownloadBytes { get; }

    public Counter<long> DownloadPortBytes { get; }

    public Counter<long> DiskGcTasks { get; }
}
