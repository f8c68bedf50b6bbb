namespace Dragonfly.Dfget.App.Cli;

/// <summary>
/// Accepts the Go flag forms CommandLineParser does not: <c>--notbs=true</c> / <c>--notbs=false</c> for boolean flags, and
/// repeated list flags (<c>-n a -n b</c>, <c>--header x --header y</c>, <c>--cacerts</c>), which are gathered into one
/// occurrence each (one value per occurrence, as in Go) at the end of the arguments.
/// </summary>
public static class ArgumentNormalizer
{
    private static readonly HashSet<string> BoolFlags = new(StringComparer.Ordinal)
    {
        "--notbs", "--insecure", "--dfdaemon", "--showbar", "-b", "--console", "--verbose",
    };

    private static readonly Dictionary<string, string> ListFlags = new(StringComparer.Ordinal)
    {
        ["-n"] = "--node", ["--node"] = "--node", ["--header"] = "--header", ["--cacerts"] = "--cacerts",
    };

    public static string[] Normalize(IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var input = args.ToList();
        var result = new List<string>();
        var lists = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var index = 0; index < input.Count; index++)
        {
            var arg = input[index];
            if (arg == "--")
            {
                result.AddRange(input.Skip(index));
                break;
            }

            var eqAt = arg.IndexOf('=', StringComparison.Ordinal);
            var flagPart = eqAt > 0 ? arg[..eqAt] : arg;
            if (ListFlags.TryGetValue(flagPart, out var canonical))
            {
                string? value = eqAt > 0 ? arg[(eqAt + 1)..] : index + 1 < input.Count ? input[++index] : null;
                if (value is null)
                {
                    // Leave the dangling flag for the parser to report as missing its value.
                    result.Add(arg);
                    continue;
                }

                if (!lists.TryGetValue(canonical, out var values))
                {
                    lists[canonical] = values = [];
                }

                values.Add(value);
                continue;
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && BoolFlags.Contains(arg[..eq]))
            {
                var value = arg[(eq + 1)..];
                if (bool.TryParse(value, out var on) || TryGoBool(value, out on))
                {
                    if (on)
                    {
                        result.Add(arg[..eq]);
                    }

                    continue;
                }
            }

            result.Add(arg);
        }

        foreach (var (flag, values) in lists)
        {
            result.Add(flag);
            result.AddRange(values);
        }

        return [.. result];
    }

    private static bool TryGoBool(string value, out bool on)
    {
        switch (value)
        {
            case "1" or "t" or "T" or "TRUE":
                on = true;
                return true;
            case "0" or "f" or "F" or "FALSE":
                on = false;
                return true;
            default:
                on = false;
                return false;
        }
    }
}
