using System.Globalization;
using System.Text;

namespace Dragonfly.TestCommon.Fuzzing;

/// <summary>Generators of hostile text and bytes for the fuzz targets, all driven by the case's <see cref="Random"/>.</summary>
public static class FuzzText
{
    /// <summary>Numbers as text at the edges of every integer type, and things that look like numbers but are not.</summary>
    public static readonly string[] Numbers =
    [
        "", "0", "00", "-0", "+0", "-1", "1", "+1", " 1", "1 ", "01", "2147483647", "2147483648", "-2147483648", "-2147483649",
        "4294967295", "4294967296", "9223372036854775806", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551615", "18446744073709551616", "99999999999999999999999999999",
        new('9', 400), "1e3", "1E-5", "1e308", "1e309", "0x10", "1.5", ".5", "5.", "1..2", "NaN", "Infinity", "-Infinity",
        "\uff11\uff12", "\u0663", "1_000", "1,000", "\u00a01", "4194304", "4194303", "16777215", "16777216", "65535", "65536",
    ];

    /// <summary>Characters that break parsers: separators, quotes, controls, NUL, DEL, non-ASCII, lone surrogates.</summary>
    public static readonly string[] Specials =
    [
        "\0", "\r", "\n", "\r\n", "\t", " ", "\u007f", "\u0001", "\u001b", "%", "%00", "%2e", "%2f", "%5c", "%25", "%zz", "/", "\\",
        "..", "../", "..\\", ":", "::", "=", "==", "-", "--", ",", ";", "?", "#", "&", "@", "[", "]", "{", "}", "\"", "'", "`", "<",
        ">", "|", "*", "+", "~", "\u00e9", "\u4e2d", "\ud83d\ude00", "\ud83d", "\ude00", "\ufeff", "\u200b", "\u0130", "\u212a",
        "\uff0f", "\u2215", "\u00a0",
    ];

    /// <summary>A random string of up to <paramref name="maxLength"/> characters from a mix of alphabets.</summary>
    public static string AnyString(Random random, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(random);
        var length = random.Next(4) == 0 ? random.Next(maxLength + 1) : random.Next(Math.Min(maxLength, 24) + 1);
        var sb = new StringBuilder(length);
        var alphabet = random.Next(5);
        while (sb.Length < length)
        {
            switch (random.Next(alphabet == 0 ? 1 : 8))
            {
                case 0 when alphabet == 0:
                    sb.Append((char)random.Next(0x20, 0x7F));
                    break;
                case 0:
                    sb.Append(Specials[random.Next(Specials.Length)]);
                    break;
                case 1:
                    sb.Append((char)random.Next(0, 0x20));
                    break;
                case 2:
                    sb.Append((char)random.Next(0x80, 0x10000));
                    break;
                default:
                    sb.Append((char)random.Next(0x20, 0x7F));
                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>Random bytes, any value, up to <paramref name="maxLength"/>.</summary>
    public static byte[] Bytes(Random random, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(random);
        var bytes = new byte[random.Next(4) == 0 ? random.Next(maxLength + 1) : random.Next(Math.Min(maxLength, 64) + 1)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>One of <see cref="Numbers"/>, or a random integer of any size and sign.</summary>
    public static string Number(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return random.Next(3) switch
        {
            0 => random.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture),
            1 => random.Next(-10, 100_000).ToString(CultureInfo.InvariantCulture),
            _ => Numbers[random.Next(Numbers.Length)],
        };
    }

    /// <summary>Up to <paramref name="maxTokens"/> of <paramref name="tokens"/> (a format's own vocabulary), joined.</summary>
    public static string FromTokens(Random random, IReadOnlyList<string> tokens, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(tokens);
        var sb = new StringBuilder();
        for (var n = random.Next(maxTokens + 1); n > 0; n--)
        {
            sb.Append(random.Next(8) switch
            {
                0 => Number(random),
                1 => Specials[random.Next(Specials.Length)],
                _ => tokens[random.Next(tokens.Count)],
            });
        }

        return sb.ToString();
    }

    /// <summary>A few random edits of valid text (<see cref="RequestMutations.Mutate(Random, byte[], byte[])"/> over UTF-8,
    /// read back as Latin-1 so every byte stays one character).</summary>
    public static string Mutate(Random random, string valid)
    {
        ArgumentNullException.ThrowIfNull(valid);
        return Encoding.Latin1.GetString(RequestMutations.Mutate(random, Encoding.UTF8.GetBytes(valid)));
    }

    /// <summary>
    /// Hostile text for a parser whose valid inputs look like <paramref name="valid"/> and are built from
    /// <paramref name="tokens"/>: an edit of a valid input, a sequence of tokens, a number, or anything.
    /// </summary>
    public static string Hostile(Random random, IReadOnlyList<string> valid, IReadOnlyList<string> tokens, int maxLength = 300)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(valid);
        return random.Next(10) switch
        {
            < 4 => Mutate(random, valid[random.Next(valid.Count)]),
            < 7 => FromTokens(random, tokens, 12),
            7 => Number(random),
            8 => valid[random.Next(valid.Count)],
            _ => AnyString(random, maxLength),
        };
    }
}
