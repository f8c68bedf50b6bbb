using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Dragonfly.Common.Rates;

/// <summary>
/// A transfer rate in bytes per second, written like the original's flags: <c>20M</c>, <c>20MB</c>, <c>1.5G</c>,
/// <c>512K</c>, <c>512k</c>, <c>100B</c> or bare bytes. Units are binary (K = 1024).
/// </summary>
public readonly record struct Rate(long BytesPerSecond) : IComparable<Rate>
{
    public const long KB = 1024;
    public const long MB = 1024 * KB;
    public const long GB = 1024 * MB;

    public static Rate Zero => default;

    public bool IsZero => BytesPerSecond == 0;

    public static Rate FromMegabytes(long mb) => new(mb * MB);

    public static Rate Parse(string text) =>
        TryParse(text, out var rate) ? rate : throw new FormatException($"invalid rate '{text}': use e.g. 20M, 1.5G, 512K or bytes");

    public static bool TryParse([NotNullWhen(true)] string? text, out Rate rate)
    {
        rate = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        long unit = 1;
        if (s.EndsWith('B') || s.EndsWith('b'))
        {
            s = s[..^1];
        }

        if (s.Length > 0)
        {
            switch (s[^1])
            {
                case 'K' or 'k': unit = KB; s = s[..^1]; break;
                case 'M' or 'm': unit = MB; s = s[..^1]; break;
                case 'G' or 'g': unit = GB; s = s[..^1]; break;
            }
        }

        if (s.Length == 0 || !decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        if (number > long.MaxValue / unit)
        {
            return false;
        }

        rate = new Rate((long)(number * unit));
        return true;
    }

    public int CompareTo(Rate other) => BytesPerSecond.CompareTo(other.BytesPerSecond);

    public static Rate operator -(Rate a, Rate b) => new(Math.Max(0, a.BytesPerSecond - b.BytesPerSecond));

    public override string ToString() => BytesPerSecond switch
    {
        0 => "0B",
        var b when b % GB == 0 => string.Create(CultureInfo.InvariantCulture, $"{b / GB}GB"),
        var b when b % MB == 0 => string.Create(CultureInfo.InvariantCulture, $"{b / MB}MB"),
        var b when b % KB == 0 => string.Create(CultureInfo.InvariantCulture, $"{b / KB}KB"),
        var b => string.Create(CultureInfo.InvariantCulture, $"{b}B"),
    };
}
