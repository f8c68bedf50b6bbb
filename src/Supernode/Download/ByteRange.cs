using System.Globalization;

namespace Dragonfly.Supernode.Download;

/// <summary>One HTTP byte range as requested: <c>bytes=s-e</c>, <c>bytes=s-</c> or <c>bytes=-n</c> (suffix).</summary>
public readonly record struct ByteRange(long? Start, long? End)
{
    public bool IsSuffix => Start is null;

    /// <summary>
    /// Parses a single-range <c>Range</c> header. Returns false for anything else (other units, several ranges, bad
    /// numbers), which the caller treats as "no Range" as RFC 9110 allows.
    /// </summary>
    public static bool TryParse(string? header, out ByteRange range)
    {
        range = default;
        const string prefix = "bytes=";
        if (header is null || !header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var spec = header.AsSpan(prefix.Length).Trim();
        if (spec.IsEmpty || spec.Contains(','))
        {
            return false;
        }

        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return false;
        }

        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.IsEmpty)
        {
            if (!TryNumber(last, out var suffix))
            {
                return false;
            }

            range = new ByteRange(null, suffix);
            return true;
        }

        if (!TryNumber(first, out var start))
        {
            return false;
        }

        if (last.IsEmpty)
        {
            range = new ByteRange(start, null);
            return true;
        }

        if (!TryNumber(last, out var end) || end < start)
        {
            return false;
        }

        range = new ByteRange(start, end);
        return true;
    }

    private static bool TryNumber(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return text.Length is > 0 and <= 19 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
