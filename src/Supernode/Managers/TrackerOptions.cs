using System.ComponentModel.DataAnnotations;

namespace Dragonfly.Supernode.Managers;

/// <summary>How the supernode's CDN gets pieces to clients (<c>--cdn-pattern</c>).</summary>
public enum CdnPattern
{
    /// <summary>The supernode caches the source and serves wrapped pieces from its download port.</summary>
    Local,

    /// <summary>Nothing cached; clients fetch each piece from the source with a Range.</summary>
    Source,
}

/// <summary>
/// The limits and timers of the tracker managers (tasks, peers, progress, scheduler, GC). Immutable after binding;
/// the host's <c>SupernodeOptions</c> maps its flags and YAML keys onto this record. Defaults are the original's (PROTOCOL §2.1).
/// </summary>
public sealed record TrackerOptions
{
    /// <summary>Max pieces one peer serves at once (<c>--up-limit</c>).</summary>
    [Range(1, 1000)]
    public int PeerUpLimit { get; init; } = 5;

    /// <summary>Max pieces one client downloads at once (<c>--down-limit</c>).</summary>
    [Range(1, 1000)]
    public int PeerDownLimit { get; init; } = 4;

    /// <summary>Max pieces the supernode serves at once per task (<c>--cdn-load-limit</c>); 0 = <see cref="PeerDownLimit"/>, as in the original.</summary>
    [Range(0, 1000)]
    public int CdnLoadLimit { get; init; }

    /// <summary>The supernode's per-task load cap in effect.</summary>
    public int EffectiveCdnLoadLimit => CdnLoadLimit > 0 ? CdnLoadLimit : PeerDownLimit;

    /// <summary>A peer with this many service errors is no longer chosen as an uploader.</summary>
    [Range(1, 10000)]
    public int EliminationLimit { get; init; } = 5;

    /// <summary>A client with more than this many failed pieces is only given supernode pieces (self-isolation).</summary>
    [Range(1, 10000)]
    public int FailureCountLimit { get; init; } = 5;

    /// <summary>Tasks not registered or pulled for this long are collected (<c>--task-expire-time</c>).</summary>
    public TimeSpan TaskExpireTime { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Peers that went service-down this long ago are deregistered (<c>--peer-gc-delay</c>).</summary>
    public TimeSpan PeerGcDelay { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Delay before the first metadata GC run (<c>--gc-initial-delay</c>).</summary>
    public TimeSpan GcInitialDelay { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>Period of the metadata (task + peer) GC (<c>--gc-meta-interval</c>).</summary>
    public TimeSpan GcMetaInterval { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a source that answered 404 is remembered, so re-registrations fail fast (<c>--fail-access-interval</c>).</summary>
    public TimeSpan FailAccessInterval { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>A task's supernode load is reset when it has not changed for this long (original: 30 s).</summary>
    public TimeSpan SuperLoadResetAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The supernode's advertised IPv4 (its CID prefix <c>cdnnode:&lt;ip&gt;~</c> and its own peer registration).</summary>
    public string AdvertiseIp { get; init; } = "127.0.0.1";

    /// <summary>Host name the supernode registers itself with as a peer.</summary>
    public string HostName { get; init; } = Environment.MachineName;

    /// <summary>The supernode's piece download port (<c>--download-port</c>); supernode pieces point clients here.</summary>
    [Range(1, 65535)]
    public int DownloadPort { get; init; } = 8001;

    /// <summary>Supernode version reported in its own peer registration.</summary>
    public string Version { get; init; } = "1.0.6";

    /// <summary><c>--cdn-pattern</c>: registration replies <c>cdnSource</c> <c>supernode</c> (local) or <c>source</c>.</summary>
    public CdnPattern CdnPattern { get; init; } = CdnPattern.Local;

    /// <summary>Piece-error queue capacity (§2.9).</summary>
    [Range(1, 100000)]
    public int PieceErrorQueueCapacity { get; init; } = 100;

    /// <summary>Piece-error workers (§2.9).</summary>
    [Range(1, 64)]
    public int PieceErrorWorkers { get; init; } = 4;

    /// <summary>After a piece error of a task is handled, further reports for that task are ignored for this long (§2.9).</summary>
    public TimeSpan PieceErrorCoolDown { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Throws when a value is outside its range (timers must be positive).</summary>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        foreach (var (name, value) in new[]
                 {
                     (nameof(TaskExpireTime), TaskExpireTime), (nameof(PeerGcDelay), PeerGcDelay),
                     (nameof(GcMetaInterval), GcMetaInterval), (nameof(FailAccessInterval), FailAccessInterval),
                     (nameof(SuperLoadResetAfter), SuperLoadResetAfter),
                 })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ValidationException($"{name} must be positive, was {value}");
            }
        }

        if (GcInitialDelay < TimeSpan.Zero || PieceErrorCoolDown < TimeSpan.Zero)
        {
            throw new ValidationException("GcInitialDelay and PieceErrorCoolDown must not be negative");
        }

        if (!System.Net.IPAddress.TryParse(AdvertiseIp, out _))
        {
            throw new ValidationException($"AdvertiseIp '{AdvertiseIp}' is not an IP address");
        }
    }
}
