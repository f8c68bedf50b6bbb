using Dragonfly.Common.Pieces;

namespace Dragonfly.Common.Hashing;

/// <summary>
/// The two md5s a file cut into wrapped pieces needs, in one pass (<see cref="Md5Pair"/>): each piece's md5 over its
/// head, content and tail (<c>pieceMd5</c>, §2.4), and the whole file's md5 over the contents in piece order
/// (<c>realMd5</c>). Pieces must be appended in order, each whole. Not thread-safe.
/// </summary>
public sealed class FileAndPieceMd5
{
    private readonly Md5Pair _pair = new();

    /// <summary>Source bytes hashed into the file md5 so far.</summary>
    public long FileLength => _pair.LengthFirst;

    /// <summary>
    /// Hashes one wrapped piece (<see cref="PieceFrame.HeadLength"/>-byte head, content, tail), adds its content to the file
    /// md5 and returns the piece's md5 hex. The frame is not validated here.
    /// </summary>
    public string AppendPiece(ReadOnlySpan<byte> wrapped)
    {
        if (wrapped.Length < PieceFrame.Overhead)
        {
            throw new ArgumentException($"a wrapped piece has at least {PieceFrame.Overhead} bytes", nameof(wrapped));
        }

        _pair.AppendSecond(wrapped[..PieceFrame.HeadLength]);
        _pair.AppendBoth(wrapped[PieceFrame.HeadLength..^PieceFrame.TailLength]);
        _pair.AppendSecond(wrapped[^PieceFrame.TailLength..]);
        Span<byte> digest = stackalloc byte[Md5Pair.HashSizeInBytes];
        _pair.GetHashAndResetSecond(digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>The file md5 hex of everything appended, and a fresh start.</summary>
    public string FinishFile()
    {
        Span<byte> digest = stackalloc byte[Md5Pair.HashSizeInBytes];
        _pair.GetHashAndResetFirst(digest);
        _pair.ResetSecond();
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>Forgets everything appended.</summary>
    public void Reset() => _pair.Reset();
}
