using System.ComponentModel.DataAnnotations;
using Dragonfly.Common.Rates;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>How the supernode caches sources: <c>local</c> (download, cut into wrapped pieces, serve on the download port) or <c>source</c>.</summary>
public enum CdnPattern
{
    Local,
    Source,
}

/// <summary>
/// Settings of the CDN, the piece store, the download port and disk GC. The host maps these from SupernodeOptions
/// (<c>services.Configure&lt;CdnOptions&gt;(...)</c>); defaults are the original's.
/// </summary>
public sealed class CdnOptions
{
    /// <summary>Supernode home; the cache lives in <c>&lt;HomeDir&gt;/repo/download/&lt;3&gt;/&lt;taskId&gt;</c>.</summary>
    [Required]
    public string HomeDir { get; set; } = "/home/admin/supernode";

    public CdnPattern CdnPattern { get; set; } = CdnPattern.Local;

    /// <summary>Total bandwidth; the CDN may use <c>MaxBandwidth − SystemBandwidth</c> to read sources (0 or less: unlimited).</summary>
    public Rate MaxBandwidth { get; set; } = Rate.FromMegabytes(200);

    public Rate SystemBandwidth { get; set; } = Rate.FromMegabytes(20);

    /// <summary>Port of the piece download endpoints (<c>/download/&lt;3&gt;/&lt;taskId&gt;</c>).</summary>
    [Range(1, 65535)]
    public int DownloadPort { get; set; } = 8001;

    /// <summary>Disk GC period (<c>gcDiskInterval</c>).</summary>
    public TimeSpan DiskGcInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Disk GC runs only when free space is at or below this (<c>youngGCThreshold</c>, 100 GB).</summary>
    [Range(0, long.MaxValue)]
    public long YoungGcThresholdBytes { get; set; } = 100L * Rate.GB;

    /// <summary>At or below this free space every file of a task not in memory is removed (<c>fullGCThreshold</c>, 5 GB).</summary>
    [Range(0, long.MaxValue)]
    public long FullGcThresholdBytes { get; set; } = 5L * Rate.GB;

    /// <summary>Tasks whose access interval is within this are treated as periodically used (<c>IntervalThreshold</c>, 2 h).</summary>
    public TimeSpan IntervalThreshold { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Fraction (in tenths) of candidate tasks removed per young GC (<c>cleanRatio</c>, 1 of 10).</summary>
    [Range(1, 10)]
    public int CleanRatio { get; set; } = 1;

    /// <summary>Timeout of the conditional GET used for the freshness check and of the Range probe.</summary>
    public TimeSpan FreshnessTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a source download (GET, or the Range GET of a resume) may take to answer with its headers
    /// (<c>sourceHeadersTimeout</c>, 30 s); past it the run fails like a broken source stream and the next one resumes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan SourceHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one read of a source body may wait for bytes (<c>sourceIdleTimeout</c>, 60 s): a source that stalls
    /// mid-body fails the run (resumable) instead of keeping the task RUNNING.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan SourceIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Bytes per second the CDN may read from sources; 0 means unlimited.</summary>
    public long SourceRateBytesPerSecond =>
        Math.Max(0, MaxBandwidth.BytesPerSecond - SystemBandwidth.BytesPerSecond);

    /// <summary>Root of the cache: <c>&lt;HomeDir&gt;/repo/download</c>.</summary>
    public string DownloadRoot => Path.Combine(Path.GetFullPath(HomeDir), "repo", "download");
}
