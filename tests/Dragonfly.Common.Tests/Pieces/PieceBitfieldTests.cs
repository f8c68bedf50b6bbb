using Dragonfly.Common.Pieces;

namespace Dragonfly.Common.Tests.Pieces;

public class PieceBitfieldTests
{
    [Fact]
    public void Encode_PieceZeroIsTheHighBitOfTheFirstByte()
    {
        Convert.FromBase64String(PieceBitfield.Encode([0], 1)).Should().Equal(0x80);
        Convert.FromBase64String(PieceBitfield.Encode([0, 7, 8], 10)).Should().Equal(0x81, 0x80);
        PieceBitfield.Encode([], 0).Should().BeEmpty();
    }

    [Fact]
    public void Encode_NumbersOutsideTheWidth_AreLeftOut()
    {
        Convert.FromBase64String(PieceBitfield.Encode([-1, 3, 9, int.MaxValue], 4)).Should().Equal(0x10);
        PieceBitfield.Encode([PieceBitfield.MaxPieces + 5], int.MaxValue).Length.Should().BeLessThan(50_000, "the width is capped");
    }

    [Fact]
    public void TryDecode_RoundTripsAnEncodedSet()
    {
        int[] pieces = [0, 1, 5, 63, 64, 1000, 1023];

        PieceBitfield.TryDecode(PieceBitfield.Encode(pieces, 1024), out var decoded).Should().BeTrue();

        decoded.Should().Equal(pieces);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not base64!")]
    public void TryDecode_NotABitfield_False(string? field)
    {
        PieceBitfield.TryDecode(field, out var decoded).Should().BeFalse();
        decoded.Should().BeEmpty();
    }
}
