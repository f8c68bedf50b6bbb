using Dragonfly.Common.Pieces;

namespace Dragonfly.Common.Tests.Pieces;

public class PieceLayoutTests
{
    private const long MiB = 1024 * 1024;

    [Theory]
    [InlineData(-1L, 4)]
    [InlineData(0L, 4)]
    [InlineData(200 * MiB, 4)]
    [InlineData(200 * MiB + 1, 4)]
    [InlineData(299 * MiB, 4)]
    [InlineData(300 * MiB, 5)]
    [InlineData(1024 * MiB, 12)]
    [InlineData(1299 * MiB, 14)]
    [InlineData(1300 * MiB, 15)]
    [InlineData(100_000 * MiB, 15)]
    public void PieceSizeFor_Boundaries_MatchOriginalRule(long length, int expectedMiB)
    {
        PieceLayout.PieceSizeFor(length).Should().Be((int)(expectedMiB * MiB));
    }

    [Fact]
    public void WrappedLength_TenMiB_IsThreePiecesPlusFifteenBytes()
    {
        PieceLayout.PieceCount(10 * MiB, PieceLayout.DefaultPieceSize).Should().Be(3);
        PieceLayout.WrappedLength(10 * MiB, PieceLayout.DefaultPieceSize).Should().Be(10485775);
        PieceLayout.SourceLengthFromWrapped(10485775, PieceLayout.DefaultPieceSize).Should().Be(10 * MiB);
    }

    [Fact]
    public void WrappedLength_EmptyFile_IsOneFiveBytePiece()
    {
        PieceLayout.PieceCount(0, PieceLayout.DefaultPieceSize).Should().Be(1);
        PieceLayout.WrappedLength(0, PieceLayout.DefaultPieceSize).Should().Be(5);
        PieceLayout.SourceLengthFromWrapped(5, PieceLayout.DefaultPieceSize).Should().Be(0);
    }

    [Fact]
    public void ContentLength_ShortLastPiece_IsRemainder()
    {
        PieceLayout.ContentLength(0, PieceLayout.DefaultPieceSize, 5_000_000).Should().Be(4194299);
        PieceLayout.ContentLength(1, PieceLayout.DefaultPieceSize, 5_000_000).Should().Be(805701);
        PieceLayout.SourceOffset(1, PieceLayout.DefaultPieceSize).Should().Be(4194299);
        PieceLayout.ContentLength(2, PieceLayout.DefaultPieceSize, 5_000_000).Should().Be(0);
    }

    [Fact]
    public void PieceCount_ExactMultipleOfContent_HasNoExtraPiece()
    {
        var per = PieceLayout.ContentPerPiece(PieceLayout.DefaultPieceSize);
        PieceLayout.PieceCount(per * 2L, PieceLayout.DefaultPieceSize).Should().Be(2);
        PieceLayout.PieceCount((per * 2L) + 1, PieceLayout.DefaultPieceSize).Should().Be(3);
    }

    [Fact]
    public void RegisterTimePieceTotal_UnknownLength_IsMinusOne()
    {
        PieceLayout.RegisterTimePieceTotal(-1, PieceLayout.DefaultPieceSize).Should().Be(-1);
        PieceLayout.RegisterTimePieceTotal(10 * MiB, PieceLayout.DefaultPieceSize).Should().Be(3);
    }
}
