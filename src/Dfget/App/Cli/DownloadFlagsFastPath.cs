namespace Dragonfly.Dfget.App.Cli;

/// <summary>
/// The common download command line without CommandLineParser: building its reflection model of the three verbs costs
/// 25–35 ms of a 1 KiB download's start-up, more than the download itself. Accepts only the plain forms
/// (<c>-u v</c>, <c>--url v</c>, <c>--url=v</c>, switches, and the list flags as <see cref="ArgumentNormalizer"/> gathers
/// them); anything else (a verb, help, an unknown or malformed flag, a repeated single-value flag, a value that is empty or
/// starts with '-', a stray value) returns null, and CommandLineParser, which stays the definition of the syntax and the
/// source of every error and help text, parses the arguments instead. <see cref="Flags"/> mirrors the
/// <see cref="DownloadVerb"/> attributes; a test keeps the two in step, and checks that both parsers agree.
/// </summary>
internal static class DownloadFlagsFastPath
{
    internal enum Kind
    {
        Value,
        Switch,
        List,
    }

    /// <summary>Every download flag by each of its names (<c>-u</c> and <c>--url</c>), with its kind and setter.</summary>
    internal static IReadOnlyDictionary<string, (Kind Kind, string Property)> Flags { get; } = BuildFlags();

    /// <param name="args">The arguments after <see cref="ArgumentNormalizer.Normalize"/>.</param>
    public static DownloadVerb? TryParse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0)
        {
            return null;
        }

        var verb = new DownloadVerb();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < args.Count; index++)
        {
            var arg = args[index];
            if (arg.Length < 2 || arg[0] != '-' || (arg[1] != '-' && arg.Length != 2))
            {
                return null;
            }

            string name;
            string? inlineValue = null;
            var eq = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=', StringComparison.Ordinal) : -1;
            if (eq > 0)
            {
                name = arg[..eq];
                inlineValue = arg[(eq + 1)..];
            }
            else
            {
                name = arg;
            }

            if (!Flags.TryGetValue(name, out var flag) || !seen.Add(flag.Property))
            {
                return null;
            }

            switch (flag.Kind)
            {
                case Kind.Switch when inlineValue is null:
                    SetSwitch(verb, flag.Property);
                    break;
                case Kind.Value:
                    var value = inlineValue ?? (index + 1 < args.Count ? args[++index] : null);
                    if (!IsPlainValue(value))
                    {
                        return null;
                    }

                    SetValue(verb, flag.Property, value!);
                    break;
                case Kind.List when inlineValue is null:
                    var values = new List<string>();
                    while (index + 1 < args.Count && !args[index + 1].StartsWith('-'))
                    {
                        if (args[++index].Length == 0)
                        {
                            return null;
                        }

                        values.Add(args[index]);
                    }

                    if (values.Count == 0)
                    {
                        return null;
                    }

                    SetList(verb, flag.Property, values);
                    break;
                default:
                    return null;
            }
        }

        return verb;
    }

    private static bool IsPlainValue(string? value) => !string.IsNullOrEmpty(value) && value[0] != '-';

    private static void SetSwitch(DownloadVerb verb, string property)
    {
        switch (property)
        {
            case nameof(DownloadVerb.NotBackSource): verb.NotBackSource = true; break;
            case nameof(DownloadVerb.Insecure): verb.Insecure = true; break;
            case nameof(DownloadVerb.Dfdaemon): verb.Dfdaemon = true; break;
            case nameof(DownloadVerb.ShowBar): verb.ShowBar = true; break;
            case nameof(DownloadVerb.Console): verb.Console = true; break;
            case nameof(DownloadVerb.Verbose): verb.Verbose = true; break;
            default: throw new InvalidOperationException($"no switch {property}");
        }
    }

    private static void SetList(DownloadVerb verb, string property, List<string> values)
    {
        switch (property)
        {
            case nameof(DownloadVerb.Headers): verb.Headers = values; break;
            case nameof(DownloadVerb.Nodes): verb.Nodes = values; break;
            case nameof(DownloadVerb.CaCerts): verb.CaCerts = values; break;
            default: throw new InvalidOperationException($"no list {property}");
        }
    }

    private static void SetValue(DownloadVerb verb, string property, string value)
    {
        switch (property)
        {
            case nameof(DownloadVerb.Url): verb.Url = value; break;
            case nameof(DownloadVerb.Output): verb.Output = value; break;
            case nameof(DownloadVerb.Md5): verb.Md5 = value; break;
            case nameof(DownloadVerb.Identifier): verb.Identifier = value; break;
            case nameof(DownloadVerb.Filter): verb.Filter = value; break;
            case nameof(DownloadVerb.LocalLimit): verb.LocalLimit = value; break;
            case nameof(DownloadVerb.MinRate): verb.MinRate = value; break;
            case nameof(DownloadVerb.TotalLimit): verb.TotalLimit = value; break;
            case nameof(DownloadVerb.Timeout): verb.Timeout = value; break;
            case nameof(DownloadVerb.Pattern): verb.Pattern = value; break;
            case nameof(DownloadVerb.CallSystem): verb.CallSystem = value; break;
            case nameof(DownloadVerb.Home): verb.Home = value; break;
            case nameof(DownloadVerb.Ip): verb.Ip = value; break;
            case nameof(DownloadVerb.Port): verb.Port = value; break;
            case nameof(DownloadVerb.ExpireTime): verb.ExpireTime = value; break;
            case nameof(DownloadVerb.AliveTime): verb.AliveTime = value; break;
            case nameof(DownloadVerb.ClientQueue): verb.ClientQueue = value; break;
            default: throw new InvalidOperationException($"no value flag {property}");
        }
    }

    private static Dictionary<string, (Kind Kind, string Property)> BuildFlags()
    {
        var flags = new Dictionary<string, (Kind, string)>(StringComparer.Ordinal);
        void Add(char? shortName, string longName, Kind kind, string property)
        {
            if (shortName is { } s)
            {
                flags["-" + s] = (kind, property);
            }

            flags["--" + longName] = (kind, property);
        }

        Add('u', "url", Kind.Value, nameof(DownloadVerb.Url));
        Add('o', "output", Kind.Value, nameof(DownloadVerb.Output));
        Add('m', "md5", Kind.Value, nameof(DownloadVerb.Md5));
        Add('i', "identifier", Kind.Value, nameof(DownloadVerb.Identifier));
        Add('f', "filter", Kind.Value, nameof(DownloadVerb.Filter));
        Add(null, "header", Kind.List, nameof(DownloadVerb.Headers));
        Add('n', "node", Kind.List, nameof(DownloadVerb.Nodes));
        Add('s', "locallimit", Kind.Value, nameof(DownloadVerb.LocalLimit));
        Add(null, "minrate", Kind.Value, nameof(DownloadVerb.MinRate));
        Add(null, "totallimit", Kind.Value, nameof(DownloadVerb.TotalLimit));
        Add('e', "timeout", Kind.Value, nameof(DownloadVerb.Timeout));
        Add('p', "pattern", Kind.Value, nameof(DownloadVerb.Pattern));
        Add(null, "notbs", Kind.Switch, nameof(DownloadVerb.NotBackSource));
        Add(null, "callsystem", Kind.Value, nameof(DownloadVerb.CallSystem));
        Add(null, "cacerts", Kind.List, nameof(DownloadVerb.CaCerts));
        Add(null, "insecure", Kind.Switch, nameof(DownloadVerb.Insecure));
        Add(null, "dfdaemon", Kind.Switch, nameof(DownloadVerb.Dfdaemon));
        Add('b', "showbar", Kind.Switch, nameof(DownloadVerb.ShowBar));
        Add(null, "console", Kind.Switch, nameof(DownloadVerb.Console));
        Add(null, "verbose", Kind.Switch, nameof(DownloadVerb.Verbose));
        Add(null, "home", Kind.Value, nameof(DownloadVerb.Home));
        Add(null, "ip", Kind.Value, nameof(DownloadVerb.Ip));
        Add(null, "port", Kind.Value, nameof(DownloadVerb.Port));
        Add(null, "expiretime", Kind.Value, nameof(DownloadVerb.ExpireTime));
        Add(null, "alivetime", Kind.Value, nameof(DownloadVerb.AliveTime));
        Add(null, "clientqueue", Kind.Value, nameof(DownloadVerb.ClientQueue));
        return flags;
    }
}
