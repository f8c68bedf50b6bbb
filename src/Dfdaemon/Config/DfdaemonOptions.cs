using System.Text.RegularExpressions;
using Dragonfly.Common.Nodes;
using Dragonfly.Common.Rates;

namespace Dragonfly.Dfdaemon.Config;

/// <summary>
/// dfdaemon's validated settings, immutable after <see cref="DfdaemonConfigLoader"/> built them (defaults ← YAML ← DFDAEMON_ env ← flags).
/// Runtime facts (the bound port, counters) live elsewhere.
/// </summary>
public sealed record DfdaemonOptions
{
    public const int DefaultPort = 65001;
    public const string DefaultConfigPath = "/etc/dragonfly/dfdaemon.yml";
    public const string DefaultRegistry = "https://index.docker.io";
    public static readonly Rate DefaultRateLimit = new(20 * Rate.MB);

    /// <summary>Where the config came from (for /args and logs); null when none was read.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>Listen address. Loopback by default: listening elsewhere is an explicit decision (<c>--listen</c> / <c>address</c>).</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>Listen port; 0 = any free port (tests).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>
    /// The IP peers reach this host's P2P uploader at (<c>--hostIp</c>); the engine's uploader binds and advertises it. Null: not
    /// set, so the engine uses the local IP of its route to the supernode, as dfget does. (The original's default of 127.0.0.1 would
    /// tell every other host to fetch pieces from itself.)
    /// </summary>
    public string? HostIp { get; init; }

    public RegistryMirrorOptions RegistryMirror { get; init; } = new();

    public IReadOnlyList<ProxyRule> Proxies { get; init; } = [];

    public HijackHttpsOptions? HijackHttps { get; init; }

    /// <summary>
    /// False (default): absolute-URI and CONNECT requests are served only for the mirror's host and port and the hijack hosts
    /// (on their port); everything else gets 403. A <c>proxies</c> rule never lets a host in: it only chooses P2P or direct.
    /// True: behave like the original (forward everything).
    /// </summary>
    public bool OpenProxy { get; init; }

    /// <summary>
    /// True (default): before a blob is served from P2P, the upstream is asked (a HEAD with the client's own headers) whether this
    /// client may read it; when it says no, the client's request goes to the upstream directly. The P2P cache is shared by URL
    /// and digest, so without the check a client gets any blob another client's credentials fetched. False: one round trip
    /// per blob less, and every client that can name a cached blob gets it.
    /// </summary>
    public bool VerifyBlobAccess { get; init; } = true;

    /// <summary>Absolute directory for temporary blob files.</summary>
    public required string LocalRepo { get; init; }

    /// <summary>Upper bound of the local repo; the cleaner removes oldest files beyond it.</summary>
    public long LocalRepoMaxBytes { get; init; } = 10L * 1024 * 1024 * 1024;

    /// <summary>Files in the local repo older than this are removed.</summary>
    public TimeSpan LocalRepoMaxAge { get; init; } = TimeSpan.FromHours(1);

    public TimeSpan CleanInterval { get; init; } = TimeSpan.FromMinutes(2);

    public required string WorkHome { get; init; }

    /// <summary>
    /// The dfget work home used by the in-process engine: its own meta/data/logs and its own uploader. <c>--home</c> in
    /// <c>dfget_flags</c> replaces it.
    /// </summary>
    public string EngineHome => EngineHomeOf(WorkHome, DfgetFlags);

    public string LogsDir => Path.Combine(WorkHome, "logs");

    public Rate RateLimit { get; init; } = DefaultRateLimit;

    /// <summary>Supernodes; empty = P2P disabled (blobs go direct).</summary>
    public SupernodeList? Supernodes { get; init; }

    public IReadOnlyList<string> SupernodeTexts { get; init; } = [];

    public string? CertPem { get; init; }

    public string? KeyPem { get; init; }

    public int MaxProcs { get; init; } = 4;

    /// <summary>The dfget executable/dll used to start the work home's uploader (<c>dfget server</c>); null = next to dfdaemon.</summary>
    public string? DfPath { get; init; }

    public bool Verbose { get; init; }

    public int PeerPort { get; init; }

    public bool StreamMode { get; init; }

    /// <summary><c>dfget_flags</c>, parsed: the settings every blob download of the in-process engine gets.</summary>
    public DfgetFlagSet DfgetFlags { get; init; } = DfgetFlagSet.Empty;

    /// <summary><c>localIP</c>: like <see cref="HostIp"/>, and preferred to it.</summary>
    public string? LocalIp { get; init; }

    /// <summary>The IP the engine's uploader binds and advertises: <c>--ip</c> in <c>dfget_flags</c>, else <c>localIP</c>, else <c>hostIp</c>.</summary>
    public string? PeerIp => DfgetFlags.Ip ?? LocalIp ?? HostIp;

    /// <summary>The engine's uploader port: <c>peerPort</c>, else <c>--port</c> in <c>dfget_flags</c>, else 0 (chosen).</summary>
    public int EnginePeerPort => PeerPort != 0 ? PeerPort : DfgetFlags.Port ?? 0;

    /// <summary>The supernodes: <c>--node</c>/<c>supernodes</c>, else <c>--node</c> in <c>dfget_flags</c>.</summary>
    public SupernodeList? EffectiveSupernodes => Supernodes ?? DfgetFlags.Nodes;

    /// <summary>The raw command line (served by <c>/args</c>).</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>The engine's work home for <paramref name="workHome"/>: <c>--home</c> in <c>dfget_flags</c>, else <c>&lt;workHome&gt;/dfdaemon/home</c>.</summary>
    public static string EngineHomeOf(string workHome, DfgetFlagSet dfgetFlags)
    {
        ArgumentNullException.ThrowIfNull(dfgetFlags);
        return dfgetFlags.Home ?? Path.Combine(workHome, "dfdaemon", "home");
    }

    public bool ServeHttps => !string.IsNullOrEmpty(CertPem) && !string.IsNullOrEmpty(KeyPem);
}

/// <summary><c>registry_mirror</c>: where relative requests go.</summary>
public sealed record RegistryMirrorOptions
{
    public Uri Remote { get; init; } = new(DfdaemonOptions.DefaultRegistry);

    /// <summary>PEM files of extra CAs trusted for the remote.</summary>
    public IReadOnlyList<string> Certs { get; init; } = [];

    public bool Insecure { get; init; }

    /// <summary>True: never use P2P for blobs.</summary>
    public bool Direct { get; init; }
}

/// <summary>One <c>proxies</c> entry: the regex matched against the full URL, and what to do with a match.</summary>
public sealed record ProxyRule(Regex Pattern, bool UseHttps, bool Direct, string? Redirect)
{
    public bool Matches(string url) => Pattern.IsMatch(url);
}

/// <summary><c>hijack_https</c>: the CA (or plain cert) used to intercept CONNECT to matching hosts.</summary>
public sealed record HijackHttpsOptions(string CertPath, string KeyPath, IReadOnlyList<HijackHost> Hosts);

/// <summary>One <c>hijack_https.hosts</c> entry: host names matching <see cref="Pattern"/>, on <see cref="Port"/> (443 unless configured).</summary>
public sealed record HijackHost(Regex Pattern, bool Insecure, IReadOnlyList<string> Certs, int Port = HijackHost.DefaultPort)
{
    public const int DefaultPort = 443;

    /// <summary>
    /// True when <c>host:port</c> is this entry's: the name matches and the port is the configured one. Interception, the host
    /// policy and TLS trust all ask this one question.
    /// </summary>
    public bool Matches(string host, int port) => port == Port && Pattern.IsMatch(host);
}
