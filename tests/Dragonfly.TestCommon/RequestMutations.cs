namespace Dragonfly.TestCommon;

/// <summary>Random edits of valid bytes (a request head, a response, a config file), for the hostile-input tests of
/// the code that parses them.</summary>
public static class RequestMutations
{
    /// <summary>A failure message about an edit, cut to a screen (an edit may insert thousands of bytes).</summary>
    public static string Shorten(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length <= 2000 ? text : text[..2000] + "…";
    }

    /// <summary>YAML's punctuation, for edits of config files.</summary>
    public static byte[] YamlSpecials => ":-[]{}&*!|>'\"%@`#,?\n\t \r"u8.ToArray();

    /// <summary>A few random edits of a valid request head: bytes flipped, inserted, deleted, duplicated or cut.</summary>
    public static byte[] Mutate(Random random, byte[] valid) => Mutate(random, valid, "\r\n :/%?\0\t\u007f-,="u8.ToArray());

    /// <summary>As <see cref="Mutate(Random, byte[])"/>, inserting bytes from <paramref name="specials"/> (a format's own
    /// punctuation: YAML's, say) where an edit inserts one.</summary>
    public static byte[] Mutate(Random random, byte[] valid, byte[] specials)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(specials);
        var bytes = new List<byte>(valid);
        for (var edits = random.Next(1, 5); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.Insert(at, specials[random.Next(specials.Length)]);
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    bytes.InsertRange(at, bytes.GetRange(at, Math.Min(bytes.Count - at, random.Next(1, 40))));
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    bytes.InsertRange(at, Enumerable.Repeat((byte)'a', random.Next(1, 20_000)));
                    break;
            }
        }

        return [.. bytes];
    }
}
