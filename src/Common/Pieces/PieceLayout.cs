namespace Dragonfly.Common.Pieces;

/// <summary>
/// Sizing rules of a task: the piece size chosen from the source length, and how source bytes map onto wrapped pieces.
/// </summary>
public static class PieceLayout
{
    public const int MiB = 1024 * 1024;
    public const int DefaultPieceSize = 4 * MiB;
    public const int MaxPieceSize = 15 * MiB;
    private const long HundredMiB = 100L * MiB;
    private const long TwoHundredMiB = 200L * MiB;

    /// <summary>
    /// 4 MiB up to 200 MiB (or unknown length); beyond, 4 MiB + (⌊len / 100 MiB⌋ − 2) MiB, capped at 15 MiB.
    /// </summary>
    public static int PieceSizeFor(long sourceLength)
    {
        if (sourceLength <= TwoHundredMiB)
        {
            return DefaultPieceSize;
        }

        var extra = (sourceLength / HundredMiB) - 2;
        return (int)Math.Min(DefaultPieceSize + (extra * MiB), MaxPieceSize);
    }

    /// <summary>Source bytes carried by one wrapped piece.</summary>
    public static int ContentPerPiece(int pieceSize) => pieceSize - PieceFrame.Overhead;

    /// <summary>Number of wrapped pieces for a known source length; an empty file still has one (5-byte) piece.</summary>
    public static int PieceCount(long sourceLength, int pieceSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sourceLength);
        if (sourceLength == 0)
        {
            return 1;
        }

        var perPiece = ContentPerPiece(pieceSize);
        return (int)((sourceLength + perPiece - 1) / perPiece);
    }

    /// <summary>The wrapped (CDN) file length: source + 5 bytes per piece.</summary>
    public static long WrappedLength(long sourceLength, int pieceSize) =>
        sourceLength + ((long)PieceCount(sourceLength, pieceSize) * PieceFrame.Overhead);

    /// <summary>Source length from a wrapped length, or -1 when the wrapped length cannot be a valid wrapped file.</summary>
    public static long SourceLengthFromWrapped(long wrappedLength, int pieceSize)
    {
        if (wrappedLength < PieceFrame.Overhead)
        {
            return -1;
        }

        var pieces = (wrappedLength + pieceSize - 1) / pieceSize;
        return wrappedLength - (pieces * PieceFrame.Overhead);
    }

    /// <summary>Where piece <paramref name="pieceNum"/>'s content starts in the source (unwrapped) file.</summary>
    public static long SourceOffset(int pieceNum, int pieceSize) => (long)pieceNum * ContentPerPiece(pieceSize);

    /// <summary>How many source bytes piece <paramref name="pieceNum"/> carries for a file of known length.</summary>
    public static int ContentLength(int pieceNum, int pieceSize, long sourceLength)
    {
        var offset = SourceOffset(pieceNum, pieceSize);
        var remaining = sourceLength - offset;
        return remaining <= 0 ? 0 : (int)Math.Min(remaining, ContentPerPiece(pieceSize));
    }

    /// <summary>The piece count a registration reports before the CDN knows the wrapped length (-1 when unknown).</summary>
    public static int RegisterTimePieceTotal(long sourceLength, int pieceSize) =>
        sourceLength < 0 ? -1 : (int)((sourceLength + pieceSize - 1) / pieceSize);
}
