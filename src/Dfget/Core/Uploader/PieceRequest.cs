using System.Globalization;
using Dragonfly.Common.Pieces;
using Microsoft.AspNetCore.Http;

namespace Dragonfly.Dfget.Uploader;

/// <summary>The validated headers of a <c>/peer/file/</c> request.</summary>
/// <param name="Range">Requested bytes, in wrapped coordinates unless <paramref name="SourcePattern"/>.</param>
/// <param name="SourcePattern">True for <c>cdnSource: source</c>: plain bytes, no piece framing.</param>
public readonly record struct PieceRequest(PieceRange Range, int PieceNum, int PieceSize, bool SourcePattern)
{
    /// <summary>Largest piece size the 24-bit content length of the frame head can describe.</summary>
    public const int MaxPieceSize = PieceFrame.MaxContentLength + PieceFrame.Overhead;

    public static bool TryParse(IHeaderDictionary headers, out PieceRequest request, out string error)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return TryParse(headers.Range.ToString(), headers["pieceNum"].ToString(), headers["pieceSize"].ToString(), headers["cdnSource"].ToString(), out request, out error);
    }

    /// <summary>The same from the header values themselves (null or empty when absent).</summary>
    public static bool TryParse(string? rangeHeader, string? pieceNumHeader, string? pieceSizeHeader, string? cdnSourceHeader, out PieceRequest request, out string error)
    {
        request = default;
        if (!PieceRange.TryParseHttpRange(rangeHeader, out var range))
        {
            error = "invalid or missing Range header";
            return false;
        }

        if (!int.TryParse(pieceNumHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var pieceNum))
        {
            error = "invalid or missing pieceNum header";
            return false;
        }

        if (!int.TryParse(pieceSizeHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var pieceSize)
            || pieceSize <= PieceFrame.Overhead || pieceSize > MaxPieceSize)
        {
            error = "invalid or missing pieceSize header";
            return false;
        }

        var source = string.Equals(cdnSourceHeader, "source", StringComparison.OrdinalIgnoreCase);
        // End − Start, not Length: End − Start + 1 overflows for an end of long.MaxValue.
        if (range.End - range.Start >= pieceSize
            || (!source && (range.Length <= PieceFrame.Overhead || range.Start < (long)pieceNum * PieceFrame.Overhead)))
        {
            error = "range does not describe a piece of this pieceSize/pieceNum";
            return false;
        }

        request = new PieceRequest(range, pieceNum, pieceSize, source);
        error = string.Empty;
        return true;
    }

    /// <summary>
    /// Where to read in the raw (unwrapped) file and how much, or false when the start lies beyond its end.
    /// A wrapped piece reads at <c>start − pieceNum·5</c>; an empty file still yields its one empty piece.
    /// </summary>
    public bool TryPlan(long fileLength, out long rawOffset, out int contentLength)
    {
        if (SourcePattern)
        {
            rawOffset = Range.Start;
            contentLength = rawOffset < fileLength ? (int)Math.Min(Range.Length, fileLength - rawOffset) : 0;
            return rawOffset < fileLength;
        }

        rawOffset = Range.Start - ((long)PieceNum * PieceFrame.Overhead);
        var available = fileLength - rawOffset;
        contentLength = available > 0 ? (int)Math.Min(Range.Length - PieceFrame.Overhead, available) : 0;
        return available > 0 || (fileLength == 0 && rawOffset == 0);
    }

    /// <summary>Bytes of the response body for a planned content length.</summary>
    public long BodyLength(int contentLength) => SourcePattern ? contentLength : contentLength + PieceFrame.Overhead;
}
