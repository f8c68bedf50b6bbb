using Dragonfly.Common.Pieces;

namespace Dragonfly.Common.Tests.Pieces;

public class PieceRangeTests
{
    [Theory]
    [InlineData("0-45565", 0, 45565)]
    [InlineData("4194304-8388607", 4194304, 8388607)]
    [InlineData("7-7", 7, 7)]
    public void TryParse_ValidRange_ReturnsBounds(string text, long start, long end)
    {
        PieceRange.TryParse(text, out var range).Should().BeTrue();
        range.Should().Be(new PieceRange(start, end));
        range.ToString().Should().Be(text);
    }

    [Theory]
    [InlineData("0-65-575")]
    [InlineData("0-hello")]
    [InlineData("65575-0")]
    [InlineData("-1-8")]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("5-")]
    [InlineData("-5")]
    [InlineData(" 0-5")]
    [InlineData("0-5 ")]
    [InlineData("+0-5")]
    [InlineData("0x10-20")]
    [InlineData("99999999999999999999-99999999999999999999")]
    [InlineData("../../etc/passwd")]
    [InlineData(null)]
    public void TryParse_MalformedRange_IsRejected(string? text)
    {
        PieceRange.TryParse(text, out _).Should().BeFalse();
    }

    [Fact]
    public void ForPiece_ShortLastPiece_StillSpansWholePieceSize()
    {
        var range = PieceRange.ForPiece(2, 4194304);

        range.ToString().Should().Be("8388608-12582911");
        range.PieceNum.Should().Be(2);
        range.Length.Should().Be(4194304);
    }

    [Theory]
    [InlineData("bytes=0-4194303", 0, 4194303)]
    [InlineData("BYTES=10-20", 10, 20)]
    public void TryParseHttpRange_SingleClosedRange_Parses(string header, long start, long end)
    {
        PieceRange.TryParseHttpRange(header, out var range).Should().BeTrue();
        range.Should().Be(new PieceRange(start, end));
    }

    [Theory]
    [InlineData("bytes=0-10,20-30")]
    [InlineData("bytes=-500")]
    [InlineData("bytes=500-")]
    [InlineData("items=0-10")]
    [InlineData(null)]
    public void TryParseHttpRange_UnsupportedForms_AreRejected(string? header)
    {
        PieceRange.TryParseHttpRange(header, out _).Should().BeFalse();
    }
}
