using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Sockets;
using Dragonfly.Common.Rates;
using Dragonfly.Supernode.Admin;

namespace Dragonfly.Supernode.Hosting;

/// <summary>
/// Everything an operator configures on a supernode (flags and the <c>base:</c> section of <c>supernode.yml</c>, §2.1).
/// Immutable once bound: runtime facts (the advertise IP actually chosen, bound ports, the supernode's own peer id) live in
/// <see cref="SupernodeRuntime"/>.
/// </summary>
public sealed record SupernodeOptions : IValidatableObject
{
    public const string DefaultConfigPath = "/etc/dragonfly/supernode.yml";

    /// <summary><c>local</c> (cache pieces under the home dir and serve them on the download port) or <c>source</c>.</summary>
    [RegularExpression("^(local|source)$", ErrorMessage = "cdn-pattern must be 'local' or 'source'")]
    public string CdnPattern { get; init; } = "local";

    /// <summary>API port (0 = any free port, for tests).</summary>
    [Range(0, 65535, ErrorMessage = "port must be between 0 and 65535")]
    public int ListenPort { get; init; } = 8002;

    /// <summary>Port serving CDN pieces (<c>/download/&lt;3&gt;/&lt;taskId&gt;</c>); 0 = any free port.</summary>
    [Range(0, 65535, ErrorMessage = "download-port must be between 0 and 65535")]
    public int DownloadPort { get; init; } = 8001;

    [Required(AllowEmptyStrings = false, ErrorMessage = "home-dir must not be empty")]
    public string HomeDir { get; init; } = "/home/admin/supernode";

    public Rate SystemReservedBandwidth { get; init; } = Rate.FromMegabytes(20);

    public Rate MaxBandwidth { get; init; } = Rate.FromMegabytes(200);

    /// <summary>Accepted for compatibility (unused by the original too).</summary>
    [Range(1, 10_000, ErrorMessage = "pool-size must be between 1 and 10000")]
    public int SchedulerCorePoolSize { get; init; } = 10;

    public bool EnableProfiler { get; init; }

    public bool Debug { get; init; }

    /// <summary>Max concurrent uploads a peer is given (§2.7).</summary>
    [Range(1, 1000, ErrorMessage = "up-limit must be between 1 and 1000")]
    public int PeerUpLimit { get; init; } = 5;

    /// <summary>Max concurrently running pieces per client, and the supernode's per-task load cap unless <see cref="CdnLoadLimit"/> is set.</summary>
    [Range(1, 1000, ErrorMessage = "down-limit must be between 1 and 1000")]
    public int PeerDownLimit { get; init; } = 4;

    /// <summary>
    /// Max pieces the supernode serves at once per task (<c>--cdn-load-limit</c>); 0 = <see cref="PeerDownLimit"/>, as in the
    /// original. Raising it trades P2P share for speed when the supernode's uplink is much wider than the peers'.
    /// </summary>
    [Range(0, 1000, ErrorMessage = "cdn-load-limit must be between 0 and 1000")]
    public int CdnLoadLimit { get; init; }

    /// <summary>The IPv4 address peers use to reach this supernode; detected when empty.</summary>
    public string? AdvertiseIp { get; init; }

    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "fail-access-interval must be between 0s and 24h")]
    public TimeSpan FailAccessInterval { get; init; } = TimeSpan.FromMinutes(3);

    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "gc-initial-delay must be between 0s and 24h")]
    public TimeSpan GcInitialDelay { get; init; } = TimeSpan.FromSeconds(6);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "gc-meta-interval must be between 1s and 24h")]
    public TimeSpan GcMetaInterval { get; init; } = TimeSpan.FromMinutes(2);

    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00", ErrorMessage = "task-expire-time must be between 1s and 30 days")]
    public TimeSpan TaskExpireTime { get; init; } = TimeSpan.FromMinutes(3);

    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00", ErrorMessage = "peer-gc-delay must be between 0s and 30 days")]
    public TimeSpan PeerGcDelay { get; init; } = TimeSpan.FromMinutes(3);

    // YAML-only knobs (§2.1).

    [Range(1, 1000, ErrorMessage = "eliminationLimit must be between 1 and 1000")]
    public int EliminationLimit { get; init; } = 5;

    [Range(1, 1000, ErrorMessage = "failureCountLimit must be between 1 and 1000")]
    public int FailureCountLimit { get; init; } = 5;

    public Rate LinkLimit { get; init; } = Rate.FromMegabytes(20);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "gcDiskInterval must be between 1s and 24h")]
    public TimeSpan GcDiskInterval { get; init; } = TimeSpan.FromSeconds(15);

    [Range(0, long.MaxValue, ErrorMessage = "youngGCThreshold must not be negative")]
    public long YoungGcThreshold { get; init; } = 100L * Rate.GB;

    [Range(0, long.MaxValue, ErrorMessage = "fullGCThreshold must not be negative")]
    public long FullGcThreshold { get; init; } = 5L * Rate.GB;

    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00", ErrorMessage = "IntervalThreshold must be between 0s and 365 days")]
    public TimeSpan IntervalThreshold { get; init; } = TimeSpan.FromHours(2);

    [Range(1, 10, ErrorMessage = "cleanRatio must be between 1 and 10")]
    public int CleanRatio { get; init; } = 1;

    /// <summary>How long a source may take to answer the CDN's download GET with its headers; past it the run fails (resumable).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "sourceHeadersTimeout must be between 1s and 24h")]
    public TimeSpan SourceHeadersTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a source may send nothing in the middle of a CDN download; past it the run fails (resumable).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "sourceIdleTimeout must be between 1s and 24h")]
    public TimeSpan SourceIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Networks the supernode may fetch sources from (<c>sourceAllow</c>); empty = any address not in
    /// <see cref="SourceDeny"/>. Checked after DNS resolution for every connection, redirects included.
    /// </summary>
    public IReadOnlyList<IPNetwork> SourceAllow { get; init; } = [];

    /// <summary>Networks the supernode never fetches sources from (<c>sourceDeny</c>), whatever <see cref="SourceAllow"/> says.</summary>
    public IReadOnlyList<IPNetwork> SourceDeny { get; init; } = [];

    /// <summary>Largest accepted API request body (JSON/form); larger bodies get 413.</summary>
    [Range(1024, 64L * 1024 * 1024, ErrorMessage = "maxRequestBodySize must be between 1KB and 64MB")]
    public long MaxRequestBodySize { get; init; } = 1024 * 1024;

    /// <summary>
    /// The operator token the management routes need (<c>Authorization: Bearer &lt;token&gt;</c>); null = every route open, as
    /// in the original. Set from <c>adminTokenFile</c> (read once at start-up), <c>SUPERNODE_ADMIN_TOKEN</c> or
    /// <c>base.adminToken</c>; never shown (<see cref="Admin.AdminToken.ToString"/>).
    /// </summary>
    public AdminToken? AdminToken { get; init; }

    /// <summary>The file the admin token was read from (<c>adminTokenFile</c>, <c>--admin-token-file</c>), if any.</summary>
    public string? AdminTokenFile { get; init; }

    /// <summary>With an admin token, also guard the read-only management views (<c>adminProtectReads</c>).</summary>
    public bool AdminProtectReads { get; init; }

    /// <summary>
    /// Wrong admin tokens (403) one client may present within <see cref="AdminFailureWindow"/> before it is locked out of
    /// the protected routes for <see cref="AdminLockout"/> (<c>adminMaxFailures</c>); 0 = never locked out.
    /// </summary>
    [Range(0, 100_000, ErrorMessage = "adminMaxFailures must be between 0 (no lockout) and 100000")]
    public int AdminMaxFailures { get; init; } = AdminLockoutOptions.Default.MaxFailures;

    /// <summary>The window in which <see cref="AdminMaxFailures"/> wrong tokens lock a client out (<c>adminFailureWindow</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "adminFailureWindow must be between 1s and 24h")]
    public TimeSpan AdminFailureWindow { get; init; } = AdminLockoutOptions.Default.FailureWindow;

    /// <summary>How long a locked-out client gets 429 on the protected routes, even with the right token (<c>adminLockout</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "adminLockout must be between 1s and 24h")]
    public TimeSpan AdminLockout { get; init; } = AdminLockoutOptions.Default.Lockout;

    /// <summary>The CDN's source rate limit: max bandwidth minus the reserved system bandwidth (180MB/s by default).</summary>
    public Rate CdnSourceRate => MaxBandwidth - SystemReservedBandwidth;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxBandwidth.BytesPerSecond <= 0)
        {
            yield return new ValidationResult("max-bandwidth must be greater than 0", [nameof(MaxBandwidth)]);
        }

        if (SystemReservedBandwidth.BytesPerSecond < 0 || SystemReservedBandwidth.CompareTo(MaxBandwidth) >= 0)
        {
            yield return new ValidationResult(
                $"system-bandwidth ({SystemReservedBandwidth}) must be less than max-bandwidth ({MaxBandwidth})",
                [nameof(SystemReservedBandwidth)]);
        }

        if (ListenPort != 0 && ListenPort == DownloadPort)
        {
            yield return new ValidationResult($"port and download-port must differ (both are {ListenPort})", [nameof(DownloadPort)]);
        }

        if (!string.IsNullOrEmpty(AdvertiseIp) &&
            (!IPAddress.TryParse(AdvertiseIp, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork || AdvertiseIp.Count(c => c == '.') != 3))
        {
            yield return new ValidationResult($"advertise-ip '{AdvertiseIp}' is not an IPv4 address", [nameof(AdvertiseIp)]);
        }

        if (AdminProtectReads && AdminToken is null)
        {
            yield return new ValidationResult(
                "adminProtectReads needs an admin token (adminTokenFile, --admin-token-file, SUPERNODE_ADMIN_TOKEN_FILE or SUPERNODE_ADMIN_TOKEN)",
                [nameof(AdminProtectReads)]);
        }

        if (!string.IsNullOrEmpty(AdminTokenFile) && AdminToken is null)
        {
            // Options built without the command line (which reads the file): never run open when a token was asked for.
            yield return new ValidationResult($"admin token file {AdminTokenFile} was not read", [nameof(AdminTokenFile)]);
        }

        if (!string.IsNullOrEmpty(HomeDir) && !Path.IsPathFullyQualified(HomeDir))
        {
            yield return new ValidationResult($"home-dir '{HomeDir}' must be an absolute path", [nameof(HomeDir)]);
        }
    }

    /// <summary>Validates with DataAnnotations (including <see cref="Validate"/>) and returns the messages, empty when valid.</summary>
    public IReadOnlyList<string> ValidationErrors()
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage ?? "invalid value").ToList();
    }
}
