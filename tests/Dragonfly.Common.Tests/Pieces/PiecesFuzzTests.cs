using Dragonfly.Common.Pieces;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Common.Tests.Pieces;

/// <summary>
/// Hostile text and bytes for the piece wire formats a peer reads from another (ranges, the frame of a wrapped piece,
/// piece md5s, bitfields): false or a documented exception, never another one; a value that parses formats back to
/// itself.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class PiecesFuzzTests
{
    private static readonly string[] RangeTokens = ["0", "1", "-", "--", "4194303", "4194304", "9223372036854775807", "9223372036854775808", " ", "bytes=", "+", ",", "\t"];

    [Fact]
    public Task PieceRange_HostileText_FalseOrAValidRangeThatRoundTrips() => Fuzzer.RunAsync(20_000, c =>
    {
        var text = FuzzText.Hostile(c.Random, ["0-4194303", "4194304-8388607", "0-0", "bytes=0-9"], RangeTokens);
        c.SetInput(text);
        var plain = PieceRange.TryParse(text, out var a);
        var header = PieceRange.TryParseHttpRange(text, out var b);
        foreach (var (parsed, range) in new[] { (plain, a), (header, b) })
        {
            if (parsed)
            {
                range.Start.Should().BeInRange(0, range.End);
                PieceRange.Parse(range.ToString()).Should().Be(range);
                PieceRange.TryParseHttpRange(range.ToHttpRange(), out var again).Should().BeTrue();
                again.Should().Be(range);
                _ = range.PieceNum;
            }
        }

        try
        {
            PieceRange.Parse(text).Should().Be(a);
        }
        catch (FormatException)
        {
            plain.Should().BeFalse();
        }
    });

    [Fact]
    public Task PieceFrame_HostileBytes_TryUnwrapFalseOrTheExactContent() => Fuzzer.RunAsync(20_000, c =>
    {
        var content = FuzzText.Bytes(c.Random, 3000);
        // The head holds the piece size in its bits 24 to 31 (as the original's): a whole number of MiB, as every supernode gives.
        var pieceSize = c.Random.Next(1, 16) << 20;
        var wrapped = new byte[content.Length + PieceFrame.Overhead];
        PieceFrame.Wrap(content, pieceSize, wrapped).Should().Be(wrapped.Length);
        PieceFrame.TryUnwrap(wrapped, out var unwrapped).Should().BeTrue();
        unwrapped.SequenceEqual(content).Should().BeTrue();
        PieceFrame.ReadHead(wrapped).Should().Be((content.Length, pieceSize));

        var hostile = c.Random.Next(3) switch
        {
            0 => FuzzText.Bytes(c.Random, 300),
            1 => Dragonfly.TestCommon.RequestMutations.Mutate(c.Random, wrapped),
            _ => wrapped[..c.Random.Next(wrapped.Length + 1)],
        };
        c.SetInput(hostile);
        if (PieceFrame.TryUnwrap(hostile, out var inner))
        {
            (inner.Length + PieceFrame.Overhead).Should().Be(hostile.Length);
            hostile[^1].Should().Be(PieceFrame.Tail);
            inner.SequenceEqual(hostile.AsSpan(PieceFrame.HeadLength, inner.Length)).Should().BeTrue();
        }

        if (hostile.Length >= PieceFrame.HeadLength)
        {
            var (length, size) = PieceFrame.ReadHead(hostile);
            length.Should().BeInRange(0, PieceFrame.MaxContentLength);
            size.Should().BeGreaterThanOrEqualTo(0);
        }
    });

    [Fact]
    public Task PieceMd5_HostileText_FalseOrAValueThatRoundTrips() => Fuzzer.RunAsync(10_000, c =>
    {
        var text = FuzzText.Hostile(c.Random, ["0123456789abcdef0123456789ABCDEF:4194304", "d41d8cd98f00b204e9800998ecf8427e"], ["0", "f", "F", ":", "g", "-1", "4194304"]);
        c.SetInput(text);
        if (PieceMd5.TryParse(text, out var md5))
        {
            md5.Md5.Should().MatchRegex("^[0-9a-f]{32}$");
            if (md5.WrappedLength >= 0)
            {
                PieceMd5.TryParse(md5.ToString(), out var again).Should().BeTrue();
                again.Should().Be(md5);
            }
        }
    });

    [Fact]
    public Task PieceBitfield_HostileText_FalseOrPiecesThatEncodeBack() => Fuzzer.RunAsync(2000, c =>
    {
        var pieces = Enumerable.Range(0, c.Random.Next(50)).Select(_ => c.Random.Next(-5, 3000)).ToArray();
        var length = c.Random.Next(-1, 3000);
        var field = PieceBitfield.Encode(pieces, length);
        PieceBitfield.TryDecode(field, out var decoded).Should().BeTrue();
        decoded.Should().Equal(pieces.Where(p => p >= 0 && p < length).Distinct().Order());

        var text = c.OneIn(2) ? FuzzText.Mutate(c.Random, field) : FuzzText.AnyString(c.Random, 400);
        c.SetInput(text);
        if (PieceBitfield.TryDecode(text, out var any))
        {
            any.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
            any.All(p => p >= 0 && p < text.Length * 6).Should().BeTrue("a field of n characters holds at most 6n bits");
        }
    });
}
