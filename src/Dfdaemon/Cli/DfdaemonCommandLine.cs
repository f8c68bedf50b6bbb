using Dragonfly.Dfdaemon.Config;

namespace Dragonfly.Dfdaemon.Cli;

/// <summary>What the command line asked for.</summary>
public enum DfdaemonCommand
{
    Run,
    Help,
    Version,
    ConfigDefault,
    GenCa,
}

/// <summary>
/// The parsed command line: a subcommand and the flags given (<c>--flag value</c> or <c>--flag=value</c>; flag names are matched
/// case-insensitively, so <c>--hostIp</c> and <c>--hostip</c> both work). Flags not given are absent, so config and env can fill them.
/// </summary>
public sealed class DfdaemonCommandLine
{
    /// <summary>Flags that take a value, with their help text.</summary>
    public static readonly IReadOnlyList<(string Name, string Help)> ValueFlags =
    [
        ("config", "config file (default /etc/dragonfly/dfdaemon.yml)"),
        ("port", "listen port (default 65001)"),
        ("listen", "listen address (default 127.0.0.1; 0.0.0.0 to serve other hosts)"),
        ("hostIp", "IP other peers reach this host's P2P uploader at (default: the local IP of the route to the supernode)"),
        ("registry", "registry mirror remote (default https://index.docker.io)"),
        ("localrepo", "absolute directory for temporary blob files (default <workHome>/dfdaemon/data/)"),
        ("workHome", "work home (default $HOME/.small-dragonfly)"),
        ("dfpath", "dfget executable used to start the P2P uploader (default: next to dfdaemon); blobs download in-process"),
        ("ratelimit", "P2P download rate per blob and upload limit (default 20MB)"),
        ("node", "supernode host[:port][=weight], comma separated or repeated"),
        ("certpem", "certificate PEM: serve HTTPS"),
        ("keypem", "private key PEM: serve HTTPS"),
        ("maxprocs", "worker threads hint (default 4)"),
        ("peerPort", "uploader port (default 0 = choose)"),
    ];

    public static readonly IReadOnlyList<(string Name, string Help)> BoolFlags =
    [
        ("verbose", "debug logging"),
        ("streamMode", "accepted for compatibility; blobs are always streamed in piece order"),
    ];

    private readonly Dictionary<string, List<string>> _values = new(StringComparer.OrdinalIgnoreCase);

    private DfdaemonCommandLine(IReadOnlyList<string> args)
    {
        Args = args;
    }

    public IReadOnlyList<string> Args { get; }

    public DfdaemonCommand Command { get; private set; } = DfdaemonCommand.Run;

    /// <summary>Arguments after a subcommand (gen-ca options).</summary>
    public Dictionary<string, string> SubcommandOptions { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string? Get(string name) => _values.TryGetValue(name, out var list) && list.Count > 0 ? list[^1] : null;

    public IReadOnlyList<string> GetAll(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>Parses <paramref name="args"/>; throws <see cref="DfdaemonConfigException"/> (exit 2) on an unknown flag or missing value.</summary>
    public static DfdaemonCommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var cl = new DfdaemonCommandLine(args);
        var i = 0;
        if (args.Count > 0 && !args[0].StartsWith('-'))
        {
            switch (args[0])
            {
                case "version":
                    cl.Command = DfdaemonCommand.Version;
                    i = 1;
                    break;
                case "gen-ca":
                    cl.Command = DfdaemonCommand.GenCa;
                    cl.ParseSubOptions(args, 1);
                    return cl;
                case "config" when args.Count > 1 && args[1] == "default":
                    cl.Command = DfdaemonCommand.ConfigDefault;
                    i = 2;
                    break;
                case "help":
                    cl.Command = DfdaemonCommand.Help;
                    return cl;
                default:
                    throw new DfdaemonConfigException(DfdaemonExitCode.Usage, $"unknown command '{args[0]}' (commands: gen-ca, config default, version)");
            }
        }

        for (; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                cl.Command = DfdaemonCommand.Help;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length < 3)
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.Usage, $"unexpected argument '{arg}'");
            }

            var body = arg[2..];
            string? inline = null;
            var eq = body.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                inline = body[(eq + 1)..];
                body = body[..eq];
            }

            var valueFlag = ValueFlags.FirstOrDefault(f => string.Equals(f.Name, body, StringComparison.OrdinalIgnoreCase)).Name;
            var boolFlag = BoolFlags.FirstOrDefault(f => string.Equals(f.Name, body, StringComparison.OrdinalIgnoreCase)).Name;
            if (valueFlag is not null)
            {
                var value = inline ?? (i + 1 < args.Count ? args[++i] : throw new DfdaemonConfigException(DfdaemonExitCode.Usage, $"flag --{body} needs a value"));
                cl.Add(valueFlag, value);
            }
            else if (boolFlag is not null)
            {
                var value = inline ?? "true";
                if (!bool.TryParse(value, out _))
                {
                    throw new DfdaemonConfigException(DfdaemonExitCode.Usage, $"flag --{body} takes true or false, not '{value}'");
                }

                cl.Add(boolFlag, value);
            }
            else
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.Usage, $"unknown flag --{body} (see dfdaemon --help)");
            }
        }

        return cl;
    }

    public static string Usage()
    {
        var lines = new List<string>
        {
            "dfdaemon: registry mirror and HTTP(S) proxy that downloads image layers through Dragonfly P2P.",
            string.Empty,
            "Usage: dfdaemon [flags]",
            "       dfdaemon gen-ca [--cert ca.crt] [--key ca.key] [--cn name] [--days 3650]",
            "       dfdaemon config default",
            "       dfdaemon version",
            string.Empty,
            "Flags:",
        };
        lines.AddRange(ValueFlags.Select(f => $"  --{f.Name,-12} {f.Help}"));
        lines.AddRange(BoolFlags.Select(f => $"  --{f.Name,-12} {f.Help}"));
        lines.Add(string.Empty);
        lines.Add("Every flag can also be set as DFDAEMON_<FLAG> (e.g. DFDAEMON_PORT=65002); flags win over env, env over the config file.");
        return string.Join('\n', lines);
    }

    private void Add(string name, string value)
    {
        if (!_values.TryGetValue(name, out var list))
        {
            list = [];
            _values[name] = list;
        }

        list.Add(value);
    }

    private void ParseSubOptions(IReadOnlyList<string> args, int start)
    {
        for (var i = start; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.Usage, $"unexpected argument '{arg}'");
            }

            var body = arg[2..];
            var eq = body.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                SubcommandOptions[body[..eq]] = body[(eq + 1)..];
            }
            else if (i + 1 < args.Count)
            {
                SubcommandOptions[body] = args[++i];
            }
            else
            {
                throw new DfdaemonConfigException(DfdaemonExitCode.Usage, $"flag --{body} needs a value");
            }
        }
    }
}
