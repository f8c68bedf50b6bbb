using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Dragonfly.Common.Pieces;

/// <summary>A piece checksum as it travels on the wire: <c>md5hex(head+content+tail):wrappedLength</c>.</summary>
public readonly record struct PieceMd5(string Md5, int WrappedLength)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Md5}:{WrappedLength}");

    public static bool TryParse([NotNullWhen(true)] string? text, out PieceMd5 value)
    {
        value = default;
        if (text is null)
        {
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var md5 = colon < 0 ? text : text[..colon];
        if (md5.Length != 32 || !md5.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        var length = -1;
        if (colon >= 0 && !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length))
        {
            return false;
        }

        value = new PieceMd5(md5.ToLowerInvariant(), length);
        return true;
    }
}
