using Dragonfly.Common.Hashing;
using Dragonfly.Common.Pieces;

namespace Dragonfly.Common.Tests.Hashing;

public class FileAndPieceMd5Tests
{
    [Theory]
    [InlineData(1, 64)]
    [InlineData(3, 1000)]
    [InlineData(5, 4096)]
    public void AppendPiece_EveryPiece_MatchesTheMd5sComputedApart(int pieces, int pieceSize)
    {
        var content = new byte[((pieces - 1) * (pieceSize - PieceFrame.Overhead)) + 17];
        new Random(pieces).NextBytes(content);
        var md5 = new FileAndPieceMd5();
        var per = pieceSize - PieceFrame.Overhead;
        for (var offset = 0; offset < content.Length; offset += per)
        {
            var n = Math.Min(per, content.Length - offset);
            var wrapped = new byte[n + PieceFrame.Overhead];
            PieceFrame.WriteHead(wrapped, n, pieceSize);
            content.AsSpan(offset, n).CopyTo(wrapped.AsSpan(PieceFrame.HeadLength));
            wrapped[^1] = PieceFrame.Tail;

            md5.AppendPiece(wrapped).Should().Be(Md5Hex.Of(wrapped));
        }

        md5.FileLength.Should().Be(content.Length);
        md5.FinishFile().Should().Be(Md5Hex.Of(content));
        md5.FileLength.Should().Be(0);
        md5.FinishFile().Should().Be(Md5Hex.Of([]), "finishing starts afresh");
    }

    [Fact]
    public void AppendPiece_TooShort_Throws() =>
        FluentActions.Invoking(() => new FileAndPieceMd5().AppendPiece(new byte[4])).Should().Throw<ArgumentException>();

    [Fact]
    public void Reset_ForgetsEverything()
    {
        var md5 = new FileAndPieceMd5();
        md5.AppendPiece(new byte[100]);
        md5.Reset();
        md5.FinishFile().Should().Be(Md5Hex.Of([]));
    }
}
