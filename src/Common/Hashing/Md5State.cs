using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Dragonfly.Common.Hashing;

/// <summary>One 64-byte MD5 block held inline (no array), used as a stream's pending partial block.</summary>
[InlineArray(Md5State.BlockSize)]
internal struct Md5Block
{
    private byte _element0;
}

/// <summary>
/// One MD5 stream (RFC 1321): the four chaining words, the number of bytes appended so far, and the partial block that
/// has not been compressed yet. A plain mutable value with no heap storage: <see cref="Md5Pair"/> holds two of them and
/// drives the block function itself when both streams have a whole block ready.
/// </summary>
internal struct Md5State
{
    public const int BlockSize = 64;
    public const int HashSize = 16;

    private const uint InitA = 0x67452301;
    private const uint InitB = 0xefcdab89;
    private const uint InitC = 0x98badcfe;
    private const uint InitD = 0x10325476;

    internal uint A;
    internal uint B;
    internal uint C;
    internal uint D;

    /// <summary>Total bytes appended since the last reset; its low six bits are the number of pending bytes.</summary>
    internal ulong Length;

    /// <summary>The first <see cref="PendingCount"/> bytes are appended but not yet compressed.</summary>
    internal Md5Block Pending;

    public static Md5State Create()
    {
        var state = default(Md5State);
        state.Reset();
        return state;
    }

    public readonly int PendingCount => (int)(Length % BlockSize);

    public void Reset()
    {
        A = InitA;
        B = InitB;
        C = InitC;
        D = InitD;
        Length = 0;
    }

    /// <summary>Appends bytes to this stream alone, compressing every block it completes.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        var blocks = data[TakeWholeBlocks(data)];
        if (!blocks.IsEmpty)
        {
            Md5Scalar.Compress(ref this, blocks, blocks.Length / BlockSize);
        }
    }

    /// <summary>
    /// Appends <paramref name="data"/> except its whole blocks: adds its length, completes the pending partial block from
    /// its start (compressing that block), and keeps the bytes after its last whole block as the new partial block.
    /// Returns where in <paramref name="data"/> the whole blocks between lie; the caller must compress them next.
    /// </summary>
    public Range TakeWholeBlocks(ReadOnlySpan<byte> data)
    {
        var pending = PendingCount;
        Length += (ulong)data.Length;
        var start = 0;
        if (pending > 0)
        {
            start = Math.Min(BlockSize - pending, data.Length);
            data[..start].CopyTo(((Span<byte>)Pending)[pending..]);
            if (pending + start < BlockSize)
            {
                return 0..0;
            }

            Md5Scalar.Compress(ref this, Pending, 1);
        }

        var end = start + ((data.Length - start) / BlockSize * BlockSize);
        data[end..].CopyTo(Pending);
        return start..end;
    }

    /// <summary>
    /// Writes the digest of everything appended so far into <paramref name="destination"/> (at least 16 bytes) and
    /// leaves this state finished; call <see cref="Reset"/> before reusing it.
    /// </summary>
    public void Finish(Span<byte> destination)
    {
        if (destination.Length < HashSize)
        {
            throw new ArgumentException("The destination is shorter than an MD5 digest (16 bytes).", nameof(destination));
        }

        var bitLength = Length * 8;
        var pending = PendingCount;
        Span<byte> block = Pending;
        block[pending] = 0x80;
        block[(pending + 1)..].Clear();
        if (pending >= BlockSize - sizeof(ulong))
        {
            // No room for the 8-byte length after the 0x80 marker: that block is compressed and the length gets its own.
            Md5Scalar.Compress(ref this, block, 1);
            block.Clear();
        }

        BinaryPrimitives.WriteUInt64LittleEndian(block[(BlockSize - sizeof(ulong))..], bitLength);
        Md5Scalar.Compress(ref this, block, 1);

        BinaryPrimitives.WriteUInt32LittleEndian(destination, A);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], B);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], C);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], D);
    }
}
