using Dragonfly.Common.Pieces;

namespace Dragonfly.Common.Tests.Pieces;

public class PieceFrameTests
{
    [Fact]
    public void WriteHead_FullDefaultPiece_MatchesOriginalBytes()
    {
        var head = new byte[4];
        PieceFrame.WriteHead(head, 4194304 - 5, 4194304);
        Convert.ToHexStringLower(head).Should().Be("043ffffb");
    }

    [Fact]
    public void WriteHead_LastPieceOfFiveMillionByteFile_MatchesOriginalBytes()
    {
        // 5,000,000 − 4,194,299 = 805,701 bytes in piece 1.
        var head = new byte[4];
        PieceFrame.WriteHead(head, 805701, 4194304);
        Convert.ToHexStringLower(head).Should().Be("040c4b45");
    }

    [Fact]
    public void Wrap_EmptyFile_IsFiveBytes()
    {
        var buffer = new byte[5];
        PieceFrame.Wrap([], 4194304, buffer).Should().Be(5);
        Convert.ToHexStringLower(buffer).Should().Be("040000007f");
    }

    [Fact]
    public void WrapThenUnwrap_RoundTripsContent()
    {
        var content = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        var buffer = new byte[content.Length + PieceFrame.Overhead];

        PieceFrame.Wrap(content, 4194304, buffer);
        PieceFrame.TryUnwrap(buffer, out var unwrapped).Should().BeTrue();

        unwrapped.ToArray().Should().Equal(content);
        PieceFrame.ReadHead(buffer).Should().Be((1000, 4194304));
        buffer[^1].Should().Be(0x7F);
    }

    [Fact]
    public void ReadHead_FifteenMiBPiece_RecoversBothFields()
    {
        var size = 15 * 1024 * 1024;
        var head = new byte[4];
        PieceFrame.WriteHead(head, size - 5, size);
        PieceFrame.ReadHead(head).Should().Be((size - 5, size));
    }

    [Fact]
    public void TryUnwrap_BadTail_IsRejected()
    {
        var buffer = new byte[15];
        PieceFrame.Wrap(new byte[10], 4194304, buffer);
        buffer[^1] = 0;
        PieceFrame.TryUnwrap(buffer, out _).Should().BeFalse();
    }

    [Fact]
    public void TryUnwrap_LengthDisagreesWithHead_IsRejected()
    {
        var buffer = new byte[15];
        PieceFrame.Wrap(new byte[10], 4194304, buffer);
        PieceFrame.TryUnwrap(buffer.AsSpan(0, 14), out _).Should().BeFalse();
        PieceFrame.TryUnwrap(new byte[3], out _).Should().BeFalse();
    }

    [Fact]
    public void HeadValue_ContentLargerThanPiece_Throws()
    {
        var act = () => PieceFrame.HeadValue(4194304, 4194304);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
