using Dragonfly.Supernode.Download;

namespace Dragonfly.Supernode.Tests.Download;

public sealed class ByteRangeTests
{
    [Theory]
    [InlineData("bytes=0-4194303", 0L, 4194303L)]
    [InlineData("bytes=100-", 100L, null)]
    [InlineData("bytes=-5", null, 5L)]
    [InlineData("BYTES= 7-7 ", 7L, 7L)]
    public void TryParse_SingleRange_Parses(string header, long? start, long? end)
    {
        ByteRange.TryParse(header, out var range).Should().BeTrue();
        range.Should().Be(new ByteRange(start, end));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("items=0-1")]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=5-1")]
    [InlineData("bytes=-")]
    [InlineData("bytes=a-b")]
    [InlineData("bytes=0-99999999999999999999")]
    [InlineData("bytes=+1-2")]
    public void TryParse_AnythingElse_IsIgnored(string? header) => ByteRange.TryParse(header, out _).Should().BeFalse();
}
