using System.Globalization;
using System.Text.RegularExpressions;
using Dragonfly.Common.Nodes;
using Dragonfly.Common.Rates;
using Dragonfly.Dfdaemon.Cli;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Dragonfly.Dfdaemon.Config;

/// <summary>
/// Builds <see cref="DfdaemonOptions"/> from defaults, the YAML file, <c>DFDAEMON_*</c> environment variables and flags
/// (later wins), and validates them. Every problem is a <see cref="DfdaemonConfigException"/> with a one-line message and the
/// original's exit code.
/// </summary>
public static class DfdaemonConfigLoader
{
    public const string EnvPrefix = "DFDAEMON_";

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(200);

    public static DfdaemonOptions Load(DfdaemonCommandLine commandLine, IReadOnlyDictionary<string, string> environment, string? userHome)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        ArgumentNullException.ThrowIfNull(environment);

        string? Pick(string flag) => commandLine.Get(flag) ?? Env(environment, flag);

        var explicitConfig = Pick("config");
        var configPath = explicitConfig ?? DfdaemonOptions.DefaultConfigPath;
        DfdaemonConfigFile file;
        string? usedConfig = null;
        if (File.Exists(configPath))
        {
            file = ParseYaml(File.ReadAllText(configPath), configPath);
            usedConfig = configPath;
        }
        else if (explicitConfig is not null)
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"config file {configPath} does not exist");
        }
        else
        {
            file = new DfdaemonConfigFile();
        }

        return Build(file, Pick, commandLine, usedConfig, userHome);
    }

    /// <summary>Parses YAML text; unknown keys and type errors are config errors naming the line.</summary>
    public static DfdaemonConfigFile ParseYaml(string yaml, string source)
    {
        var deserializer = new DeserializerBuilder().Build();
        try
        {
            return deserializer.Deserialize<DfdaemonConfigFile?>(yaml) ?? new DfdaemonConfigFile();
        }
        catch (YamlException e)
        {
            var detail = e.InnerException?.Message ?? e.Message;
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"config {source} line {e.Start.Line}: {detail}");
        }
    }

    /// <summary>The YAML of the defaults (<c>dfdaemon config default</c>).</summary>
    public static string DefaultYaml() =>
        """
        # dfdaemon configuration (all keys optional). Flags and DFDAEMON_* env override these.
        port: 65001
        # listen address: loopback only unless set (e.g. 0.0.0.0)
        address: 127.0.0.1
        # hostIp: the IP peers reach this host's P2P uploader at; default: the local IP of the route to the supernode
        # hostIp: 192.0.2.10
        registry_mirror:
          remote: https://index.docker.io
          certs: []
          insecure: false
          direct: false
        # proxies: first matching rule wins; regx is matched against the full URL. A rule only chooses P2P or direct
        # (and may rewrite); which hosts may be reached at all is open_proxy's business
        proxies: []
        #  - regx: blobs/sha256.*
        #  - regx: some-registry\.example\.com
        #    use_https: true
        #  - regx: no-proxy-reg
        #    direct: true
        # hijack_https:
        #   cert: /etc/dragonfly/ca.crt
        #   key: /etc/dragonfly/ca.key
        #   hosts:
        #     - regx: mirror\.example\.com
        #       port: 443
        #       insecure: false
        # false: absolute-URI and CONNECT requests only to the mirror's host:port and the hijack hosts; true: forward everything
        open_proxy: false
        # true: before a blob is served from P2P (a cache shared by every client), ask the upstream with the client's own
        # headers (a HEAD) whether this client may read it; a refusal goes to the upstream directly. false saves that round trip
        # per blob, but any client that names a blob someone else pulled gets it without credentials
        verify_blob_access: true
        workHome: ~/.small-dragonfly
        # localrepo: /root/.small-dragonfly/dfdaemon/data/
        localrepo_max_size: 10G
        ratelimit: 20MB
        supernodes: []
        maxprocs: 4
        verbose: false
        peerPort: 0
        streamMode: false
        # dfget_flags: flags of dfget applied to every blob download, e.g. ["-f", "Expires&Signature", "--alivetime", "10m"]
        dfget_flags: []

        """;

    private static DfdaemonOptions Build(DfdaemonConfigFile file, Func<string, string?> pick, DfdaemonCommandLine commandLine, string? usedConfig, string? userHome)
    {
        // Work home.
        var workHome = pick("workHome") ?? file.WorkHome;
        if (string.IsNullOrWhiteSpace(workHome))
        {
            if (string.IsNullOrWhiteSpace(userHome))
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.HomeMissing, "cannot determine the home directory: set --workHome");
            }

            workHome = Path.Combine(userHome, ".small-dragonfly");
        }
        else if (workHome.StartsWith('~'))
        {
            if (string.IsNullOrWhiteSpace(userHome))
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.HomeMissing, $"cannot expand {workHome}: home directory unknown");
            }

            workHome = Path.Combine(userHome, workHome.TrimStart('~').TrimStart('/'));
        }

        workHome = Path.GetFullPath(workHome);

        // Local repo.
        var localRepo = pick("localrepo") ?? file.LocalRepo;
        if (string.IsNullOrWhiteSpace(localRepo))
        {
            localRepo = Path.Combine(workHome, "dfdaemon", "data") + Path.DirectorySeparatorChar;
        }
        else if (!Path.IsPathRooted(localRepo))
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.RepoNotAbsolute, $"localrepo {localRepo} is not an absolute path");
        }

        // dfget_flags: the settings of every in-process blob download.
        DfgetFlagSet dfgetFlags;
        try
        {
            dfgetFlags = DfgetFlagSet.Parse(file.DfgetFlags ?? []);
        }
        catch (FormatException e)
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, e.Message);
        }

        CheckFiles(dfgetFlags.CaCertFiles, "dfget_flags --cacerts");

        // The engine's work home (its uploader's data) must never be cleaned as the local repo.
        var engineHome = DfdaemonOptions.EngineHomeOf(workHome, dfgetFlags).TrimEnd('/');
        var repoFull = Path.GetFullPath(localRepo).TrimEnd('/') + "/";
        if (repoFull.StartsWith(engineHome + "/", StringComparison.Ordinal) || (engineHome + "/").StartsWith(repoFull, StringComparison.Ordinal))
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"localrepo {localRepo} overlaps the P2P work home {engineHome}; choose another directory");
        }

        // Ports.
        var port = ParsePort(pick("port"), file.Port, "port", DfdaemonOptions.DefaultPort);
        var peerPort = ParsePort(pick("peerPort"), file.PeerPort, "peerPort", 0);

        // Rate.
        var rateText = pick("ratelimit") ?? file.RateLimit;
        var rate = DfdaemonOptions.DefaultRateLimit;
        if (rateText is not null && (!Rate.TryParse(rateText, out rate) || rate.BytesPerSecond <= 0))
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.InvalidRate, $"invalid ratelimit '{rateText}': use e.g. 20MB, 512K, 1G");
        }

        long maxRepo = 10L * Rate.GB;
        if (file.LocalRepoMaxSize is not null)
        {
            if (!Rate.TryParse(file.LocalRepoMaxSize, out var size) || size.BytesPerSecond <= 0)
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"invalid localrepo_max_size '{file.LocalRepoMaxSize}': use e.g. 10G");
            }

            maxRepo = size.BytesPerSecond;
        }

        // Registry mirror.
        var remoteText = pick("registry") ?? file.RegistryMirror?.Remote ?? DfdaemonOptions.DefaultRegistry;
        if (!Uri.TryCreate(remoteText, UriKind.Absolute, out var remote) || (remote.Scheme != Uri.UriSchemeHttp && remote.Scheme != Uri.UriSchemeHttps))
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"registry '{remoteText}' is not an http(s) URL");
        }

        var mirror = new RegistryMirrorOptions
        {
            Remote = remote,
            Certs = CheckFiles(file.RegistryMirror?.Certs, "registry_mirror.certs"),
            Insecure = file.RegistryMirror?.Insecure ?? false,
            Direct = file.RegistryMirror?.Direct ?? false,
        };

        // Proxy rules.
        var rules = new List<ProxyRule>();
        foreach (var (section, index) in (file.Proxies ?? []).Select((s, i) => (s, i)))
        {
            if (string.IsNullOrEmpty(section.Regx))
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"proxies[{index}]: regx is required");
            }

            if (section.Redirect is not null && Uri.CheckHostName(section.Redirect.Split(':')[0]) == UriHostNameType.Unknown)
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"proxies[{index}]: redirect '{section.Redirect}' is not a host[:port]");
            }

            rules.Add(new ProxyRule(CompileRegex(section.Regx, $"proxies[{index}].regx"), section.UseHttps, section.Direct, string.IsNullOrEmpty(section.Redirect) ? null : section.Redirect));
        }

        // HTTPS hijacking.
        HijackHttpsOptions? hijack = null;
        if (file.HijackHttps is { } h)
        {
            if (string.IsNullOrEmpty(h.Cert) || string.IsNullOrEmpty(h.Key))
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, "hijack_https needs both cert and key");
            }

            CheckFiles([h.Cert, h.Key], "hijack_https");
            var hosts = (h.Hosts ?? []).Select((x, i) => new HijackHost(
                CompileRegex(x.Regx ?? throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"hijack_https.hosts[{i}]: regx is required"), $"hijack_https.hosts[{i}].regx"),
                x.Insecure,
                CheckFiles(x.Certs, $"hijack_https.hosts[{i}].certs"),
                x.Port is null or (>= 1 and <= 65535) ? x.Port ?? HijackHost.DefaultPort
                    : throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"hijack_https.hosts[{i}]: port {x.Port} is not 1-65535"))).ToList();
            hijack = new HijackHttpsOptions(h.Cert, h.Key, hosts);
        }

        // Supernodes.
        var nodeTexts = commandLine.GetAll("node").Count > 0 ? commandLine.GetAll("node").ToList()
            : pick("node") is { } envNodes ? [envNodes]
            : file.Supernodes ?? [];
        SupernodeList? nodes = null;
        if (nodeTexts.Count > 0)
        {
            if (!SupernodeList.TryParse(nodeTexts, out var parsed, out var error))
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"invalid node list '{string.Join(',', nodeTexts)}': {error ?? "invalid"}");
            }

            nodes = parsed;
        }

        // HTTPS serving.
        var certPem = pick("certpem") ?? file.CertPem;
        var keyPem = pick("keypem") ?? file.KeyPem;
        if (string.IsNullOrEmpty(certPem) != string.IsNullOrEmpty(keyPem))
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, "--certpem and --keypem must be given together");
        }

        if (!string.IsNullOrEmpty(certPem))
        {
            CheckFiles([certPem, keyPem!], "certpem/keypem");
        }

        var listen = pick("listen") ?? file.Address ?? "127.0.0.1";
        if (!System.Net.IPAddress.TryParse(listen, out _) && listen != "localhost")
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"listen address '{listen}' is not an IP address");
        }

        var hostIp = pick("hostIp") ?? file.HostIp;
        if (hostIp is not null && !System.Net.IPAddress.TryParse(hostIp, out _))
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"hostIp '{hostIp}' is not an IP address");
        }

        if (file.LocalIp is not null && !System.Net.IPAddress.TryParse(file.LocalIp, out _))
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"localIP '{file.LocalIp}' is not an IP address");
        }

        var maxProcs = ParseInt(pick("maxprocs"), file.MaxProcs, "maxprocs", 4);
        if (maxProcs <= 0)
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"maxprocs {maxProcs} must be positive");
        }

        return new DfdaemonOptions
        {
            ConfigPath = usedConfig,
            ListenAddress = listen,
            Port = port,
            HostIp = hostIp,
            RegistryMirror = mirror,
            Proxies = rules,
            HijackHttps = hijack,
            OpenProxy = file.OpenProxy ?? false,
            VerifyBlobAccess = file.VerifyBlobAccess ?? true,
            LocalRepo = localRepo,
            LocalRepoMaxBytes = maxRepo,
            WorkHome = workHome,
            RateLimit = rate,
            Supernodes = nodes,
            SupernodeTexts = nodeTexts,
            CertPem = certPem,
            KeyPem = keyPem,
            MaxProcs = maxProcs,
            DfPath = pick("dfpath") ?? file.DfPath,
            Verbose = ParseBool(pick("verbose"), file.Verbose, "verbose"),
            PeerPort = peerPort,
            StreamMode = ParseBool(pick("streamMode"), file.StreamMode, "streamMode"),
            DfgetFlags = dfgetFlags,
            LocalIp = file.LocalIp,
            Args = commandLine.Args,
        };
    }

    private static string? Env(IReadOnlyDictionary<string, string> environment, string flag) =>
        environment.TryGetValue(EnvPrefix + flag.ToUpperInvariant(), out var v) && !string.IsNullOrEmpty(v) ? v : null;

    private static int ParsePort(string? text, int? fromFile, string name, int fallback)
    {
        int port;
        if (text is not null)
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port))
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.InvalidPort, $"invalid {name} '{text}': must be 0-65535");
            }
        }
        else
        {
            port = fromFile ?? fallback;
        }

        if (port is < 0 or > 65535)
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.InvalidPort, $"invalid {name} {port}: must be 0-65535");
        }

        return port;
    }

    private static int ParseInt(string? text, int? fromFile, string name, int fallback)
    {
        if (text is null)
        {
            return fromFile ?? fallback;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"invalid {name} '{text}': not a number");
    }

    private static bool ParseBool(string? text, bool? fromFile, string name)
    {
        if (text is null)
        {
            return fromFile ?? false;
        }

        return bool.TryParse(text, out var value)
            ? value
            : throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"invalid {name} '{text}': use true or false");
    }

    private static Regex CompileRegex(string pattern, string where)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException e)
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"{where}: invalid regex '{pattern}': {e.Message}");
        }
    }

    private static List<string> CheckFiles(IEnumerable<string>? files, string where)
    {
        var list = files?.ToList() ?? [];
        foreach (var f in list)
        {
            if (!File.Exists(f))
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"{where}: file {f} does not exist");
            }
        }

        return list;
    }
}
