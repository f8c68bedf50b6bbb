using System.Numerics;

namespace Dragonfly.Supernode.Managers.Progress;

/// <summary>
/// A growable set of piece numbers, one bit per piece. The original keeps one 8-bit slot per piece and encodes the status
/// in the bit offset; we keep one compact bitset per status instead (success, failed), so a 10,000-piece task costs
/// 1.25 KB per status per client, and counting/iterating is word-at-a-time. Not thread-safe: guarded by the swarm's gate.
/// </summary>
public sealed class PieceBitset
{
    private ulong[] _words;

    public PieceBitset(int capacity = 64) => _words = new ulong[Math.Max(1, (capacity + 63) >> 6)];

    /// <summary>Number of pieces in the set.</summary>
    public int Count { get; private set; }

    public bool Contains(int pieceNum)
    {
        var word = pieceNum >> 6;
        return pieceNum >= 0 && word < _words.Length && (_words[word] & (1UL << (pieceNum & 63))) != 0;
    }

    /// <summary>Adds a piece; true when it was not there.</summary>
    public bool Add(int pieceNum)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceNum);
        var word = pieceNum >> 6;
        if (word >= _words.Length)
        {
            Array.Resize(ref _words, Math.Max(word + 1, _words.Length * 2));
        }

        var mask = 1UL << (pieceNum & 63);
        if ((_words[word] & mask) != 0)
        {
            return false;
        }

        _words[word] |= mask;
        Count++;
        return true;
    }

    /// <summary>Removes a piece; true when it was there.</summary>
    public bool Remove(int pieceNum)
    {
        if (!Contains(pieceNum))
        {
            return false;
        }

        _words[pieceNum >> 6] &= ~(1UL << (pieceNum & 63));
        Count--;
        return true;
    }

    public void Clear()
    {
        Array.Clear(_words);
        Count = 0;
    }

    /// <summary>The raw words (bit <c>n</c> of word <c>n/64</c> is piece <c>n</c>); valid until the next change.</summary>
    public ReadOnlySpan<ulong> Words => _words;

    /// <summary>Pieces in ascending order.</summary>
    public int[] ToArray()
    {
        var result = new int[Count];
        var i = 0;
        for (var w = 0; w < _words.Length; w++)
        {
            var bits = _words[w];
            while (bits != 0)
            {
                result[i++] = (w << 6) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
            }
        }

        return result;
    }
}
