using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using Dragonfly.Common.Durations;
using Dragonfly.Common.Identity;
using Dragonfly.Common.Nodes;
using Dragonfly.Common.Rates;
using Dragonfly.Dfget.Engine;

namespace Dragonfly.Dfdaemon.Config;

/// <summary>
/// The <c>dfget_flags</c> of dfdaemon.yml, parsed once at start-up into the settings of the in-process engine. The original
/// passed these tokens to every dfget it started, before its own <c>--dfdaemon -u -o -s --totallimit --node</c>; here they set
/// the same things on each blob's download request. The documented example of the original parses unchanged:
/// <c>["--node","192.168.33.21","--verbose","--ip","192.168.33.23","--port","15001","--expiretime","3m0s","--alivetime","5m0s","-f","filterParam1&amp;filterParam2"]</c>.
/// <list type="bullet">
/// <item>Flags dfdaemon sets itself keep dfdaemon's value, as they did in the original where its own flags came later:
/// <c>-s/--locallimit</c> and <c>--totallimit</c> (dfdaemon's <c>ratelimit</c>), <c>--notbs</c> and <c>--dfdaemon</c> (always on), and
/// <c>--node</c> when dfdaemon has its own <c>--node</c>/<c>supernodes</c>. They are still validated.</item>
/// <item>Console-only flags (<c>-b/--showbar</c>, <c>--console</c>) have nothing to act on in-process and are accepted.</item>
/// <item>Flags that would break every blob are rejected: <c>-u/--url</c>, <c>-o/--output</c>, <c>-m/--md5</c> (one md5 for every
/// layer), <c>-p source</c> (use <c>registry_mirror.direct</c>), unknown flags and stray values.</item>
/// </list>
/// Syntax: <c>--flag value</c>, <c>--flag=value</c>, <c>-f value</c>, <c>-f=value</c>; a bool flag alone or <c>--flag=true|false</c>.
/// </summary>
public sealed record DfgetFlagSet
{
    public static readonly DfgetFlagSet Empty = new();

    public SupernodeList? Nodes { get; init; }

    public IReadOnlyList<string> Filter { get; init; } = [];

    public IReadOnlyList<string> Headers { get; init; } = [];

    public string? Identifier { get; init; }

    public string? CallSystem { get; init; }

    public Rate? MinRate { get; init; }

    public TimeSpan? Timeout { get; init; }

    public DownloadPattern? Pattern { get; init; }

    public bool Insecure { get; init; }

    public IReadOnlyList<string> CaCertFiles { get; init; } = [];

    /// <summary><c>--ip</c>: the IP the engine's uploader binds and advertises.</summary>
    public string? Ip { get; init; }

    /// <summary><c>--port</c>: the engine's uploader port.</summary>
    public int? Port { get; init; }

    public TimeSpan? ExpireTime { get; init; }

    public TimeSpan? AliveTime { get; init; }

    public int? ClientQueue { get; init; }

    public bool Verbose { get; init; }

    /// <summary><c>--home</c>: the engine's work home instead of <c>&lt;workHome&gt;/dfdaemon/home</c>.</summary>
    public string? Home { get; init; }

    /// <summary>The flags that were accepted but have no effect here (for the start-up log).</summary>
    public IReadOnlyList<string> Ignored { get; init; } = [];

    private enum Kind
    {
        Value,
        Bool,
    }

    private static readonly FrozenDictionary<string, (string Name, Kind Kind)> Known = BuildKnown();

    /// <summary>Parses the tokens; throws <see cref="FormatException"/> with a one-line message naming the offending token.</summary>
    public static DfgetFlagSet Parse(IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var set = new DfgetFlagSet();
        var nodes = new List<string>();
        var headers = new List<string>();
        var caCerts = new List<string>();
        var ignored = new List<string>();
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i] ?? string.Empty;
            if (!token.StartsWith('-') || token is "-" or "--")
            {
                throw new FormatException($"dfget_flags: unexpected value '{token}' (each flag and each value is its own list item)");
            }

            var eq = token.IndexOf('=', StringComparison.Ordinal);
            var key = eq > 0 ? token[..eq] : token;
            string? inline = eq > 0 ? token[(eq + 1)..] : null;
            if (!Known.TryGetValue(key, out var flag))
            {
                throw new FormatException($"dfget_flags: unknown or unsupported flag '{key}'");
            }

            string value;
            if (flag.Kind == Kind.Bool)
            {
                value = inline ?? "true";
                if (!bool.TryParse(value, out _))
                {
                    throw new FormatException($"dfget_flags: {key} takes true or false, not '{value}'");
                }
            }
            else if (inline is not null)
            {
                value = inline;
            }
            else if (i + 1 < tokens.Count)
            {
                value = tokens[++i] ?? string.Empty;
            }
            else
            {
                throw new FormatException($"dfget_flags: {key} needs a value");
            }

            set = Apply(set, flag.Name, key, value, nodes, headers, caCerts, ignored);
        }

        if (nodes.Count > 0)
        {
            if (!SupernodeList.TryParse(nodes, out var parsed, out var error))
            {
                throw new FormatException($"dfget_flags: invalid --node: {error}");
            }

            set = set with { Nodes = parsed };
        }

        return set with { Headers = headers, CaCertFiles = caCerts, Ignored = ignored };
    }

    private static DfgetFlagSet Apply(DfgetFlagSet set, string name, string key, string value, List<string> nodes, List<string> headers, List<string> caCerts, List<string> ignored)
    {
        switch (name)
        {
            case "url" or "output":
                throw new FormatException($"dfget_flags: {key} is set by dfdaemon for each blob");
            case "md5":
                throw new FormatException($"dfget_flags: {key} would apply one md5 to every blob; remove it");
            case "node":
                nodes.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                return set;
            case "filter":
                return set with { Filter = TaskIdentity.ParseFilter(value) };
            case "header":
                var colon = value.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0 || value.AsSpan(0, colon).Trim().IsEmpty)
                {
                    throw new FormatException($"dfget_flags: invalid --header '{value}': expected 'Key: value'");
                }

                headers.Add(value);
                return set;
            case "identifier":
                return set with { Identifier = NonEmpty(value) };
            case "callsystem":
                return set with { CallSystem = NonEmpty(value) };
            case "minrate":
                return set with { MinRate = PositiveRate(key, value) };
            case "locallimit" or "totallimit":
                PositiveRate(key, value);
                ignored.Add($"{key} (dfdaemon's ratelimit applies)");
                return set;
            case "timeout":
                return set with { Timeout = Duration(key, value) };
            case "expiretime":
                return set with { ExpireTime = Duration(key, value) };
            case "alivetime":
                return set with { AliveTime = Duration(key, value) };
            case "pattern":
                return set with
                {
                    Pattern = value.Trim().ToLowerInvariant() switch
                    {
                        "p2p" => DownloadPattern.P2p,
                        "cdn" => DownloadPattern.Cdn,
                        "source" => throw new FormatException($"dfget_flags: {key} source is not for dfdaemon; set registry_mirror.direct or a direct proxy rule"),
                        _ => throw new FormatException($"dfget_flags: invalid {key} '{value}': use p2p or cdn"),
                    },
                };
            case "insecure":
                return set with { Insecure = bool.Parse(value) };
            case "cacerts":
                caCerts.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                return set;
            case "ip":
                if (!IPAddress.TryParse(value, out _))
                {
                    throw new FormatException($"dfget_flags: {key} '{value}' is not an IP address");
                }

                return set with { Ip = value };
            case "port":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                {
                    throw new FormatException($"dfget_flags: {key} '{value}' is not a port (0-65535)");
                }

                return set with { Port = port };
            case "clientqueue":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var queue) || queue < 1)
                {
                    throw new FormatException($"dfget_flags: {key} '{value}' must be a positive integer");
                }

                return set with { ClientQueue = queue };
            case "verbose":
                return set with { Verbose = bool.Parse(value) };
            case "home":
                if (!Path.IsPathRooted(value))
                {
                    throw new FormatException($"dfget_flags: {key} '{value}' must be an absolute path");
                }

                return set with { Home = Path.GetFullPath(value) };
            default:
                // notbs, dfdaemon (always on here), showbar and console (no console in-process).
                ignored.Add(key);
                return set;
        }
    }

    private static string? NonEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static Rate PositiveRate(string key, string value) =>
        Rate.TryParse(value, out var rate) && rate.BytesPerSecond > 0
            ? rate
            : throw new FormatException($"dfget_flags: invalid {key} '{value}': use a rate like 20M, 512K or 1G");

    private static TimeSpan Duration(string key, string value) =>
        GoDuration.TryParse(value, out var d) && d > TimeSpan.Zero
            ? d
            : throw new FormatException($"dfget_flags: invalid {key} '{value}': use a duration like 30s, 5m or 1h30m");

    private static FrozenDictionary<string, (string Name, Kind Kind)> BuildKnown()
    {
        var known = new Dictionary<string, (string, Kind)>(StringComparer.Ordinal);
        void Add(string name, char? shorthand, Kind kind)
        {
            known["--" + name] = (name, kind);
            if (shorthand is { } c)
            {
                known["-" + c] = (name, kind);
            }
        }

        Add("url", 'u', Kind.Value);
        Add("output", 'o', Kind.Value);
        Add("md5", 'm', Kind.Value);
        Add("identifier", 'i', Kind.Value);
        Add("filter", 'f', Kind.Value);
        Add("header", null, Kind.Value);
        Add("node", 'n', Kind.Value);
        Add("locallimit", 's', Kind.Value);
        Add("minrate", null, Kind.Value);
        Add("totallimit", null, Kind.Value);
        Add("timeout", 'e', Kind.Value);
        Add("pattern", 'p', Kind.Value);
        Add("callsystem", null, Kind.Value);
        Add("cacerts", null, Kind.Value);
        Add("home", null, Kind.Value);
        Add("ip", null, Kind.Value);
        Add("port", null, Kind.Value);
        Add("expiretime", null, Kind.Value);
        Add("alivetime", null, Kind.Value);
        Add("clientqueue", null, Kind.Value);
        Add("notbs", null, Kind.Bool);
        Add("insecure", null, Kind.Bool);
        Add("dfdaemon", null, Kind.Bool);
        Add("showbar", 'b', Kind.Bool);
        Add("console", null, Kind.Bool);
        Add("verbose", null, Kind.Bool);
        return known.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
