namespace Dragonfly.Dfget.App.Cli;

/// <summary>
/// <c>dfget server</c> as a download launches it (<c>server --ip a --port n --meta m --data d --home h --expiretime x
/// --alivetime y [--verbose]</c>) without CommandLineParser: its reflection model costs about 30 ms of the uploader's
/// start-up, which the first download of a work home waits for. Accepts only <c>server</c> followed by the plain forms
/// (<c>--flag v</c>, <c>--flag=v</c>, <c>--verbose</c>); anything else returns null and CommandLineParser, which stays the
/// definition of the syntax and the source of every error and help text, parses the arguments instead.
/// <see cref="Flags"/> mirrors the <see cref="ServerVerb"/> attributes; a test keeps the two in step.
/// </summary>
internal static class ServerFlagsFastPath
{
    public const string Verb = "server";

    /// <summary>Every server flag, true for the switch (<c>--verbose</c>), false for those taking a value.</summary>
    internal static IReadOnlyDictionary<string, bool> Flags { get; } = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["--ip"] = false,
        ["--port"] = false,
        ["--meta"] = false,
        ["--data"] = false,
        ["--home"] = false,
        ["--expiretime"] = false,
        ["--alivetime"] = false,
        ["--totallimit"] = false,
        ["--verbose"] = true,
    };

    /// <param name="args">The arguments after <see cref="ArgumentNormalizer.Normalize"/>, verb included.</param>
    public static ServerVerb? TryParse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0 || args[0] != Verb)
        {
            return null;
        }

        var verb = new ServerVerb();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 1; index < args.Count; index++)
        {
            var arg = args[index];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                return null;
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq > 0 ? arg[..eq] : arg;
            if (!Flags.TryGetValue(name, out var isSwitch) || !seen.Add(name))
            {
                return null;
            }

            if (isSwitch)
            {
                if (eq > 0)
                {
                    return null;
                }

                verb.Verbose = true;
                continue;
            }

            var value = eq > 0 ? arg[(eq + 1)..] : index + 1 < args.Count ? args[++index] : null;
            if (string.IsNullOrEmpty(value) || value[0] == '-')
            {
                return null;
            }

            Set(verb, name, value);
        }

        return verb;
    }

    private static void Set(ServerVerb verb, string name, string value)
    {
        switch (name)
        {
            case "--ip": verb.Ip = value; break;
            case "--port": verb.Port = value; break;
            case "--meta": verb.Meta = value; break;
            case "--data": verb.Data = value; break;
            case "--home": verb.Home = value; break;
            case "--expiretime": verb.ExpireTime = value; break;
            case "--alivetime": verb.AliveTime = value; break;
            case "--totallimit": verb.TotalLimit = value; break;
            default: throw new InvalidOperationException($"no value flag {name}");
        }
    }
}
