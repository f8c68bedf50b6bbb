namespace Dragonfly.Common.Pieces;

/// <summary>
/// A set of piece numbers as a bitfield in BitTorrent's order (piece 0 is the high bit of byte 0), base64 on the wire:
/// 1,024 pieces take 172 characters, so a swarm view of many peers stays small.
/// </summary>
public static class PieceBitfield
{
    /// <summary>Upper bound on the pieces one field describes (a 1 TiB file in 4 MiB pieces); larger numbers are dropped.</summary>
    public const int MaxPieces = 1 << 18;

    /// <summary>Encodes <paramref name="pieces"/> in a field of <paramref name="length"/> pieces; numbers outside it are left out.</summary>
    public static string Encode(IEnumerable<int> pieces, int length)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        length = Math.Clamp(length, 0, MaxPieces);
        var bytes = new byte[(length + 7) / 8];
        foreach (var piece in pieces)
        {
            if ((uint)piece < (uint)length)
            {
                bytes[piece >> 3] |= (byte)(0x80 >> (piece & 7));
            }
        }

        return Convert.ToBase64String(bytes);
    }

    /// <summary>The piece numbers set in <paramref name="field"/> (ascending); false when it is not base64.</summary>
    public static bool TryDecode(string? field, out IReadOnlyList<int> pieces)
    {
        pieces = [];
        if (field is null)
        {
            return false;
        }

        var bytes = new byte[(field.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(field, bytes, out var written))
        {
            return false;
        }

        var set = new List<int>();
        for (var i = 0; i < written * 8; i++)
        {
            if ((bytes[i >> 3] & (0x80 >> (i & 7))) != 0)
            {
                set.Add(i);
            }
        }

        pieces = set;
        return true;
    }
}
