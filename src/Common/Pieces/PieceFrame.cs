using System.Buffers.Binary;

namespace Dragonfly.Common.Pieces;

/// <summary>
/// The wrapped-piece codec: a 4-byte big-endian head <c>contentLen | (pieceSize &lt;&lt; 4)</c>, the content, and a
/// 1-byte tail <c>0x7F</c>. Every piece on the CDN disk and on the wire between peers has this shape.
/// </summary>
public static class PieceFrame
{
    public const int HeadLength = 4;
    public const int TailLength = 1;
    public const int Overhead = HeadLength + TailLength;
    public const byte Tail = 0x7F;
    public const int MaxContentLength = 0xFFFFFF;

    /// <summary>The head value of a piece: content length in the low 24 bits, the piece size shifted left by 4.</summary>
    public static uint HeadValue(int contentLength, int pieceSize)
    {
        if ((uint)contentLength > MaxContentLength || contentLength > pieceSize - Overhead)
        {
            throw new ArgumentOutOfRangeException(nameof(contentLength), contentLength, "content does not fit the piece");
        }

        return (uint)contentLength | ((uint)pieceSize << 4);
    }

    public static void WriteHead(Span<byte> destination, int contentLength, int pieceSize) =>
        BinaryPrimitives.WriteUInt32BigEndian(destination, HeadValue(contentLength, pieceSize));

    /// <summary>Reads a head; returns the content length and the piece size it declares.</summary>
    public static (int ContentLength, int PieceSize) ReadHead(ReadOnlySpan<byte> head)
    {
        var value = BinaryPrimitives.ReadUInt32BigEndian(head);
        var contentLength = (int)(value & MaxContentLength);
        var pieceSize = (int)((value >> 4) & ~0xFFFFFu);
        return (contentLength, pieceSize);
    }

    /// <summary>Wraps <paramref name="content"/> into <paramref name="destination"/>; returns the wrapped length.</summary>
    public static int Wrap(ReadOnlySpan<byte> content, int pieceSize, Span<byte> destination)
    {
        var wrapped = content.Length + Overhead;
        if (destination.Length < wrapped)
        {
            throw new ArgumentException("destination too small", nameof(destination));
        }

        WriteHead(destination, content.Length, pieceSize);
        content.CopyTo(destination[HeadLength..]);
        destination[HeadLength + content.Length] = Tail;
        return wrapped;
    }

    /// <summary>
    /// Validates a whole wrapped piece and returns its content, or <c>false</c> when the head, length or tail is wrong.
    /// </summary>
    public static bool TryUnwrap(ReadOnlySpan<byte> wrapped, out ReadOnlySpan<byte> content)
    {
        content = default;
        if (wrapped.Length < Overhead)
        {
            return false;
        }

        var (contentLength, _) = ReadHead(wrapped);
        if (contentLength + Overhead != wrapped.Length || wrapped[^1] != Tail)
        {
            return false;
        }

        content = wrapped.Slice(HeadLength, contentLength);
        return true;
    }
}
