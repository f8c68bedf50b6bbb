using System.Globalization;
using System.Text;
using Dragonfly.Common.Durations;
using Dragonfly.Common.Rates;
using Dragonfly.Common.Yaml;
using Dragonfly.Supernode.Origin;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dragonfly.Supernode.Hosting;

/// <summary>
/// Reads and writes <c>supernode.yml</c>: the <c>base:</c> section with the original's key names (§2.1). Keys are matched
/// case-insensitively; an unknown key under <c>base:</c> is an error (a typo must not be silently ignored).
/// </summary>
public static class SupernodeConfigFile
{
    private static readonly HashSet<string> IgnoredKeys = new(StringComparer.OrdinalIgnoreCase) { "logConfig" };

    /// <summary>Keys whose value is a list of networks: a YAML sequence, or one value of entries split by commas or spaces.</summary>
    private static readonly HashSet<string> NetworkListKeys = new(StringComparer.OrdinalIgnoreCase) { "sourceAllow", "sourceDeny" };

    /// <summary>Applies the file's <c>base:</c> values on top of <paramref name="options"/>.</summary>
    /// <exception cref="SupernodeConfigurationException">The file is not valid YAML or holds a bad value.</exception>
    public static SupernodeOptions Apply(SupernodeOptions options, string yaml, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(yaml);
        YamlStream stream;
        try
        {
            stream = DepthLimitedParser.Load(yaml);
        }
        catch (YamlException e)
        {
            throw new SupernodeConfigurationException($"config {sourceName}: invalid YAML at line {e.Start.Line}: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner throws this, not a YamlException, on some malformed plain scalars.
            throw new SupernodeConfigurationException($"config {sourceName}: invalid YAML: {e.Message}", e);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return options;
        }

        var baseNode = root.Children.FirstOrDefault(c => c.Key is YamlScalarNode { Value: { } k } && k.Equals("base", StringComparison.OrdinalIgnoreCase)).Value;
        if (baseNode is null)
        {
            return options;
        }

        if (baseNode is not YamlMappingNode map)
        {
            throw new SupernodeConfigurationException($"config {sourceName}: 'base' must be a mapping");
        }

        var tokenForms = 0;
        foreach (var (keyNode, valueNode) in map.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            if ((key.Equals("adminToken", StringComparison.OrdinalIgnoreCase) || key.Equals("adminTokenFile", StringComparison.OrdinalIgnoreCase)) &&
                valueNode is YamlScalarNode { Value.Length: > 0 } && ++tokenForms > 1)
            {
                throw new SupernodeConfigurationException($"config {sourceName}: set base.adminToken or base.adminTokenFile, not both");
            }

            if (IgnoredKeys.Contains(key))
            {
                continue;
            }

            if (NetworkListKeys.Contains(key))
            {
                options = ApplyNetworks(options, key, valueNode, $"config {sourceName}: base.{key}");
                continue;
            }

            if (valueNode is not YamlScalarNode { Value: var raw })
            {
                throw new SupernodeConfigurationException($"config {sourceName}: base.{key} must be a single value");
            }

            var value = raw ?? string.Empty;
            options = ApplyKey(options, key, value, $"config {sourceName}: base.{key}");
        }

        return options;
    }

    /// <summary>Applies one <c>base.</c> key (YAML name) to the options.</summary>
    internal static SupernodeOptions ApplyKey(SupernodeOptions o, string key, string value, string context) => key.ToUpperInvariant() switch
    {
        "CDNPATTERN" => o with { CdnPattern = value.Trim().ToLowerInvariant() },
        "LISTENPORT" => o with { ListenPort = Int(value, context) },
        "DOWNLOADPORT" => o with { DownloadPort = Int(value, context) },
        "HOMEDIR" => o with { HomeDir = value },
        "SYSTEMRESERVEDBANDWIDTH" => o with { SystemReservedBandwidth = RateOf(value, context) },
        "MAXBANDWIDTH" => o with { MaxBandwidth = RateOf(value, context) },
        "SCHEDULERCOREPOOLSIZE" => o with { SchedulerCorePoolSize = Int(value, context) },
        "ENABLEPROFILER" => o with { EnableProfiler = Bool(value, context) },
        "DEBUG" => o with { Debug = Bool(value, context) },
        "PEERUPLIMIT" => o with { PeerUpLimit = Int(value, context) },
        "PEERDOWNLIMIT" => o with { PeerDownLimit = Int(value, context) },
        "CDNLOADLIMIT" => o with { CdnLoadLimit = Int(value, context) },
        "ADVERTISEIP" => o with { AdvertiseIp = string.IsNullOrWhiteSpace(value) ? null : value.Trim() },
        "FAILACCESSINTERVAL" => o with { FailAccessInterval = Duration(value, context) },
        "GCINITIALDELAY" => o with { GcInitialDelay = Duration(value, context) },
        "GCMETAINTERVAL" => o with { GcMetaInterval = Duration(value, context) },
        "TASKEXPIRETIME" => o with { TaskExpireTime = Duration(value, context) },
        "PEERGCDELAY" => o with { PeerGcDelay = Duration(value, context) },
        "ELIMINATIONLIMIT" => o with { EliminationLimit = Int(value, context) },
        "FAILURECOUNTLIMIT" => o with { FailureCountLimit = Int(value, context) },
        "LINKLIMIT" => o with { LinkLimit = RateOf(value, context) },
        "GCDISKINTERVAL" => o with { GcDiskInterval = Duration(value, context) },
        "YOUNGGCTHRESHOLD" => o with { YoungGcThreshold = RateOf(value, context).BytesPerSecond },
        "FULLGCTHRESHOLD" => o with { FullGcThreshold = RateOf(value, context).BytesPerSecond },
        "INTERVALTHRESHOLD" => o with { IntervalThreshold = Duration(value, context) },
        "CLEANRATIO" => o with { CleanRatio = Int(value, context) },
        "MAXREQUESTBODYSIZE" => o with { MaxRequestBodySize = RateOf(value, context).BytesPerSecond },
        "SOURCEHEADERSTIMEOUT" => o with { SourceHeadersTimeout = Duration(value, context) },
        "SOURCEIDLETIMEOUT" => o with { SourceIdleTimeout = Duration(value, context) },
        "ADMINTOKEN" => value.Length == 0
            ? o with { AdminToken = null }
            : o with { AdminToken = AdminTokenSettings.Token(value, context, context), AdminTokenFile = null },
        "ADMINTOKENFILE" => value.Trim().Length == 0
            ? o with { AdminTokenFile = null }
            : o with { AdminTokenFile = value.Trim(), AdminToken = null },
        "ADMINPROTECTREADS" => o with { AdminProtectReads = Bool(value, context) },
        "ADMINMAXFAILURES" => o with { AdminMaxFailures = Int(value, context) },
        "ADMINFAILUREWINDOW" => o with { AdminFailureWindow = Duration(value, context) },
        "ADMINLOCKOUT" => o with { AdminLockout = Duration(value, context) },
        _ => throw new SupernodeConfigurationException($"{context}: unknown key"),
    };

    /// <summary>Applies <c>sourceAllow</c> or <c>sourceDeny</c>: every entry must be a network or address, or start-up fails.</summary>
    private static SupernodeOptions ApplyNetworks(SupernodeOptions o, string key, YamlNode value, string context)
    {
        var entries = value switch
        {
            YamlSequenceNode sequence => sequence.Children.Select(item => item is YamlScalarNode { Value: var v }
                ? v ?? string.Empty
                : throw new SupernodeConfigurationException($"{context}: each entry must be a single network (e.g. 10.0.0.0/8)")).ToList(),
            YamlScalarNode { Value: var v } => (v ?? string.Empty).Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries).ToList(),
            _ => throw new SupernodeConfigurationException($"{context}: must be a list of networks (e.g. [169.254.0.0/16, fe80::/10])"),
        };

        if (!SourceAddressPolicy.TryParseNetworks(entries, out var networks, out var error))
        {
            throw new SupernodeConfigurationException($"{context}: {error}");
        }

        return key.Equals("sourceAllow", StringComparison.OrdinalIgnoreCase) ? o with { SourceAllow = networks } : o with { SourceDeny = networks };
    }

    /// <summary>The default configuration as YAML (<c>supernode config default</c>).</summary>
    public static string Render(SupernodeOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var sb = new StringBuilder();
        sb.AppendLine("base:");
        void Line(string key, object? value) => sb.AppendLine(CultureInfo.InvariantCulture, $"  {key}: {value}");
        Line("cdnPattern", o.CdnPattern);
        Line("listenPort", o.ListenPort);
        Line("downloadPort", o.DownloadPort);
        Line("homeDir", o.HomeDir);
        Line("systemReservedBandwidth", o.SystemReservedBandwidth);
        Line("maxBandwidth", o.MaxBandwidth);
        Line("schedulerCorePoolSize", o.SchedulerCorePoolSize);
        Line("enableProfiler", o.EnableProfiler ? "true" : "false");
        Line("debug", o.Debug ? "true" : "false");
        Line("peerUpLimit", o.PeerUpLimit);
        Line("peerDownLimit", o.PeerDownLimit);
        Line("cdnLoadLimit", o.CdnLoadLimit);
        Line("advertiseIP", o.AdvertiseIp ?? "\"\"");
        Line("failAccessInterval", GoDuration.Format(o.FailAccessInterval));
        Line("gcInitialDelay", GoDuration.Format(o.GcInitialDelay));
        Line("gcMetaInterval", GoDuration.Format(o.GcMetaInterval));
        Line("taskExpireTime", GoDuration.Format(o.TaskExpireTime));
        Line("peerGCDelay", GoDuration.Format(o.PeerGcDelay));
        Line("eliminationLimit", o.EliminationLimit);
        Line("failureCountLimit", o.FailureCountLimit);
        Line("linkLimit", o.LinkLimit);
        Line("gcDiskInterval", GoDuration.Format(o.GcDiskInterval));
        Line("youngGCThreshold", new Rate(o.YoungGcThreshold));
        Line("fullGCThreshold", new Rate(o.FullGcThreshold));
        Line("IntervalThreshold", GoDuration.Format(o.IntervalThreshold));
        Line("cleanRatio", o.CleanRatio);
        Line("maxRequestBodySize", new Rate(o.MaxRequestBodySize));
        Line("sourceHeadersTimeout", GoDuration.Format(o.SourceHeadersTimeout));
        Line("sourceIdleTimeout", GoDuration.Format(o.SourceIdleTimeout));
        Line("adminTokenFile", string.IsNullOrEmpty(o.AdminTokenFile) ? "\"\"" : o.AdminTokenFile);
        Line("adminProtectReads", o.AdminProtectReads ? "true" : "false");
        Line("adminMaxFailures", o.AdminMaxFailures);
        Line("adminFailureWindow", GoDuration.Format(o.AdminFailureWindow));
        Line("adminLockout", GoDuration.Format(o.AdminLockout));
        Line("sourceAllow", Networks(o.SourceAllow));
        Line("sourceDeny", Networks(o.SourceDeny));
        return sb.ToString();
    }

    private static string Networks(IReadOnlyList<System.Net.IPNetwork> networks) =>
        "[" + string.Join(", ", networks.Select(n => $"\"{n}\"")) + "]";

    internal static int Int(string value, string context) =>
        int.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new SupernodeConfigurationException($"{context}: '{value}' is not an integer");

    internal static bool Bool(string value, string context) =>
        bool.TryParse(value.Trim(), out var b) ? b : throw new SupernodeConfigurationException($"{context}: '{value}' is not true or false");

    internal static TimeSpan Duration(string value, string context) =>
        GoDuration.TryParse(value, out var d)
            ? d
            : throw new SupernodeConfigurationException($"{context}: '{value}' is not a duration (use e.g. 3m, 6s, 1h30m, 500ms)");

    internal static Rate RateOf(string value, string context) =>
        Rate.TryParse(value, out var r) ? r : throw new SupernodeConfigurationException($"{context}: '{value}' is not a size (use e.g. 20MB, 1.5G, 512K)");
}

/// <summary>A configuration problem reported to the operator as one line, without a stack trace.</summary>
public sealed class SupernodeConfigurationException : Exception
{
    public SupernodeConfigurationException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
