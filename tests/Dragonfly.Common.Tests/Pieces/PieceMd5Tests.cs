using Dragonfly.Common.Pieces;

namespace Dragonfly.Common.Tests.Pieces;

public class PieceMd5Tests
{
    [Fact]
    public void TryParse_Md5WithLength_ParsesBoth()
    {
        PieceMd5.TryParse("D41D8CD98F00B204E9800998ECF8427E:4194304", out var value).Should().BeTrue();
        value.Md5.Should().Be("d41d8cd98f00b204e9800998ecf8427e");
        value.WrappedLength.Should().Be(4194304);
        value.ToString().Should().Be("d41d8cd98f00b204e9800998ecf8427e:4194304");
    }

    [Theory]
    [InlineData("nothex")]
    [InlineData("d41d8cd98f00b204e9800998ecf8427e:x")]
    [InlineData("d41d8cd98f00b204e9800998ecf842:5")]
    [InlineData(null)]
    public void TryParse_Malformed_IsRejected(string? text)
    {
        PieceMd5.TryParse(text, out _).Should().BeFalse();
    }
}
