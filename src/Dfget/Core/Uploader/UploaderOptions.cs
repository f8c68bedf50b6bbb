using System.Net;
using Dragonfly.Common.Rates;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// Settings of one uploader ("peer server"). Immutable after start; runtime facts (the bound port) live on
/// <see cref="PeerServer"/>.
/// </summary>
public sealed record UploaderOptions
{
    public const int CandidatePortBase = 15000;
    public const int CandidatePortSpan = 50000;
    public const int PortAttempts = 10;

    /// <summary>The default of <see cref="MaxTasks"/>.</summary>
    public const int DefaultMaxTasks = 10_000;

    /// <summary>Address to bind and advertise (the original binds <c>&lt;localIP&gt;:&lt;port&gt;</c>).</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    /// <summary>Port to bind; 0 = try the time-derived candidates (<see cref="CandidatePorts"/>).</summary>
    public int Port { get; init; }

    /// <summary>When true and <see cref="Port"/> is 0, bind an OS-chosen ephemeral port (tests, in-process hosts).</summary>
    public bool UseEphemeralPort { get; init; }

    /// <summary>
    /// An inherited socket already listening on <see cref="BindAddress"/>:<see cref="Port"/>
    /// (<see cref="UploaderPortReservation"/>): served on instead of binding; ignored unless it is exactly that.
    /// </summary>
    public int? ListenDescriptor { get; init; }

    /// <summary>The data dirs this uploader may serve from; <c>/check/</c> registrations must point inside one of them.</summary>
    public IReadOnlyList<string> DataDirs { get; init; } = [];

    /// <summary>
    /// Whether <see cref="DataDirs"/> are this uploader's alone: its work home's data dir, under the work-home lock
    /// (<see cref="LockPath"/>). Then a <c>.service</c> file there that no task is registered under and nobody wrote for a
    /// while was left behind (a failed delete, a crash) and is removed (<see cref="OrphanServiceFileSweeper"/>); in a data dir
    /// another uploader may share, such a file may be that uploader's and is left alone.
    /// </summary>
    public bool OwnsDataDirs { get; init; }

    /// <summary><c>host.meta</c> to record the port in (null = do not record, e.g. an in-process host).</summary>
    public string? HostMetaPath { get; init; }

    /// <summary>Lock file making this uploader the only one for its work home (null = no lock).</summary>
    public string? LockPath { get; init; }

    /// <summary>The original's <c>--expiretime</c> default.</summary>
    public static readonly TimeSpan DefaultExpireTime = TimeSpan.FromMinutes(3);

    /// <summary>The original's <c>--alivetime</c> default.</summary>
    public static readonly TimeSpan DefaultAliveTime = TimeSpan.FromMinutes(5);

    /// <summary>Finished tasks not accessed for this long are deleted (and reported service-down).</summary>
    public TimeSpan ExpireTime { get; init; } = DefaultExpireTime;

    /// <summary>The uploader stops after this long without upload/check/rate requests.</summary>
    public TimeSpan AliveTime { get; init; } = DefaultAliveTime;

    /// <summary>How often expiry and idleness are checked.</summary>
    public TimeSpan ScanInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A peer that does not take a whole chunk of a piece (1 MiB, or the rate limit's 1–64 KiB) within this long is
    /// dropped (the sendfile path). 60 s: about 17 KB/s at least when unlimited.</summary>
    public TimeSpan SendStallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How many tasks the uploader keeps registered at once (finished ones until they expire); a <c>/check/</c> of a new
    /// name beyond it is refused with 503.
    /// </summary>
    public int MaxTasks { get; init; } = DefaultMaxTasks;

    /// <summary>Host-wide upload limit until a <c>/check/</c> sets another (zero = unlimited).</summary>
    public Rate TotalLimit { get; init; }

    /// <summary>The version answered on <c>/check/</c>.</summary>
    public string Version { get; init; } = Engine.DfgetVersion.Current;

    /// <summary>The ports tried when <see cref="Port"/> is 0: <c>15000 + (unixSeconds/300 mod 50000) + attempt</c>.</summary>
    public static IEnumerable<int> CandidatePorts(DateTimeOffset now)
    {
        var basePort = CandidatePortBase + (int)(now.ToUnixTimeSeconds() / 300 % CandidatePortSpan);
        for (var attempt = 0; attempt < PortAttempts; attempt++)
        {
            yield return basePort + attempt;
        }
    }

    public void Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"invalid uploader port {Port}");
        }

        if (DataDirs.Count == 0)
        {
            throw new ArgumentException("the uploader needs at least one data dir");
        }

        foreach (var dir in DataDirs)
        {
            if (!Path.IsPathFullyQualified(dir))
            {
                throw new ArgumentException($"data dir '{dir}' must be an absolute path");
            }
        }

        if (ExpireTime <= TimeSpan.Zero || AliveTime <= TimeSpan.Zero || ScanInterval <= TimeSpan.Zero || SendStallTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("expire time, alive time, scan interval and send stall timeout must be positive");
        }

        if (MaxTasks <= 0)
        {
            throw new ArgumentException("the uploader's task limit must be positive");
        }

        if (TotalLimit.BytesPerSecond < 0)
        {
            throw new ArgumentException("total limit must not be negative");
        }
    }
}
