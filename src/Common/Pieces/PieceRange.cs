using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Dragonfly.Common.Pieces;

/// <summary>
/// An inclusive byte range <c>start-end</c> in wrapped-file coordinates. Piece ranges are always
/// <c>k·pieceSize-(k+1)·pieceSize−1</c>, even for the short last piece.
/// </summary>
public readonly record struct PieceRange(long Start, long End)
{
    public long Length => End - Start + 1;

    /// <summary>The piece number the original derives from a range: <c>start / (end − start + 1)</c>.</summary>
    public int PieceNum => (int)(Start / Length);

    public static PieceRange ForPiece(int pieceNum, int pieceSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceNum);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceSize);
        var start = (long)pieceNum * pieceSize;
        return new PieceRange(start, start + pieceSize - 1);
    }

    public static PieceRange Parse(string text) =>
        TryParse(text, out var range) ? range : throw new FormatException($"invalid range '{text}'");

    /// <summary>
    /// Parses <c>start-end</c>: exactly two non-negative decimal integers, start ≤ end.
    /// Rejects what the original uploader rejects: <c>0-65-575</c>, <c>0-hello</c>, <c>65575-0</c>, <c>-1-8</c>.
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out PieceRange range) =>
        TryParse(text.AsSpan(), out range) && text is not null;

    public static bool TryParse(ReadOnlySpan<char> text, out PieceRange range)
    {
        range = default;
        var dash = text.IndexOf('-');
        if (dash <= 0 || dash == text.Length - 1 || text.Length > 41)
        {
            return false;
        }

        if (!TryParseNonNegative(text[..dash], out var start) || !TryParseNonNegative(text[(dash + 1)..], out var end) || start > end)
        {
            return false;
        }

        range = new PieceRange(start, end);
        return true;
    }

    /// <summary>Parses an HTTP <c>Range: bytes=s-e</c> header value (one closed range only).</summary>
    public static bool TryParseHttpRange(string? header, out PieceRange range)
    {
        range = default;
        const string prefix = "bytes=";
        if (header is null || !header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return TryParse(header.AsSpan(prefix.Length).Trim(), out range);
    }

    public string ToHttpRange() => $"bytes={ToString()}";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Start}-{End}");

    private static bool TryParseNonNegative(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 19)
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
