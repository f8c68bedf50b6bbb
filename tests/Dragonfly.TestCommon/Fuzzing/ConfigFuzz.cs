using System.Text;

namespace Dragonfly.TestCommon.Fuzzing;

/// <summary>
/// Hostile configuration for the three programs: edits of a valid YAML file (byte edits, truncation, garbage, deep
/// nesting, anchors and aliases, values of the wrong type, repeated and complex keys), and command lines of known flags with hostile
/// values.
/// </summary>
public static class ConfigFuzz
{
    private static readonly string[] WrongValues =
    [
        "[1, 2]", "{a: b}", "99999999999999999999", "-1", "0", "~", "null", "!!binary AAAA", "!!python/object:os.system", "!!str", "!<tag:x> y",
        ".inf", "-.inf", ".nan", "0x1F", "0o17", "1_000", "'unterminated", "\"\\xZZ\"", "\"\\u12\"", "|\n  block\n", ">-\n  folded\n", "*nowhere", "&a",
        "yes", "No", "on", "1e400", "2147483648", "9223372036854775808", "\"" + new string('x', 70_000) + "\"", "\t", "\0", "\ufeff", "{", "[", "}", "]",
        "- - - -", "? complex key", "<<: *a", "!!map {}", "\"\\\"", "@", "`", "%YAML 1.1",
    ];

    /// <summary>A hostile edit of <paramref name="validYaml"/>.</summary>
    public static byte[] Yaml(Random random, string validYaml)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(validYaml);
        var valid = Encoding.UTF8.GetBytes(validYaml);
        var lines = validYaml.Split('\n');
        switch (random.Next(12))
        {
            case < 4:
                return RequestMutations.Mutate(random, valid, RequestMutations.YamlSpecials);
            case 4:
                return valid[..random.Next(valid.Length + 1)];
            case 5:
                return FuzzText.Bytes(random, 2000);
            case 6:
                var depth = random.Next(2) == 0 ? random.Next(10, 200) : random.Next(1000, 100_000);
                var (open, close) = random.Next(3) switch { 0 => ("[", "]"), 1 => ("{a: ", "}"), _ => ("- ", string.Empty) };
                var nested = random.Next(2) == 0 ? string.Concat(Enumerable.Repeat(open, depth)) + string.Concat(Enumerable.Repeat(close, depth)) : string.Concat(Enumerable.Repeat(open, depth));
                return Encoding.UTF8.GetBytes(ReplaceValue(random, lines, nested));
            case 7:
                var laughs = new StringBuilder("a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
                for (var i = 1; i < 10; i++)
                {
                    laughs.Append($"a{i}: &a{i} [{string.Join(',', Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
                }

                return Encoding.UTF8.GetBytes(random.Next(2) == 0 ? laughs + validYaml : ReplaceValue(random, lines, "*a9") + "\n" + laughs);
            case 8:
                var line = lines[random.Next(lines.Length)];
                return Encoding.UTF8.GetBytes(validYaml + "\n" + line + "\n" + line);
            case 9:
                // A complex key (a list or a mapping where a name goes) at the top or in place of a key.
                var key = random.Next(2) == 0 ? "? [a, b]\n: c\n" : "? {a: b}\n: [c]\n";
                return Encoding.UTF8.GetBytes(random.Next(2) == 0 ? key + validYaml : validYaml + "\n" + key);
            default:
                return Encoding.UTF8.GetBytes(ReplaceValue(random, lines, WrongValues[random.Next(WrongValues.Length)]));
        }
    }

    /// <summary>A command line of <paramref name="flags"/> (and <paramref name="verbs"/> now and then) with hostile values,
    /// in both <c>--flag value</c> and <c>--flag=value</c> forms.</summary>
    public static string[] Arguments(Random random, IReadOnlyList<string> flags, IReadOnlyList<string> verbs, IReadOnlyList<string> goodValues)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(flags);
        ArgumentNullException.ThrowIfNull(verbs);
        ArgumentNullException.ThrowIfNull(goodValues);
        var args = new List<string>();
        if (verbs.Count > 0 && random.Next(4) == 0)
        {
            args.Add(verbs[random.Next(verbs.Count)]);
        }

        for (var n = random.Next(0, 9); n > 0; n--)
        {
            var flag = random.Next(15) == 0 ? FuzzText.Hostile(random, flags, ["-", "--", "=", "x"]) : flags[random.Next(flags.Count)];
            var value = random.Next(3) switch
            {
                0 => goodValues[random.Next(goodValues.Count)],
                1 => FuzzText.Number(random),
                _ => FuzzText.Hostile(random, goodValues, FuzzText.Specials),
            };
            switch (random.Next(5))
            {
                case 0:
                    args.Add(flag);
                    break;
                case 1:
                    args.Add($"{flag}={value}");
                    break;
                default:
                    args.Add(flag);
                    args.Add(value);
                    break;
            }
        }

        return [.. args];
    }

    private static string ReplaceValue(Random random, string[] lines, string value)
    {
        var candidates = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains(':', StringComparison.Ordinal) && !lines[i].TrimStart().StartsWith('#')).ToArray();
        if (candidates.Length == 0)
        {
            return string.Join('\n', lines) + "\nx: " + value;
        }

        var copy = (string[])lines.Clone();
        var at = candidates[random.Next(candidates.Length)];
        copy[at] = copy[at][..(copy[at].IndexOf(':', StringComparison.Ordinal) + 1)] + " " + value;
        return string.Join('\n', copy);
    }
}
