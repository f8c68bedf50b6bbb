using Dragonfly.Common.Rates;

namespace Dragonfly.Common.Tests.Rates;

public class RateTests
{
    [Theory]
    [InlineData("20M", 20L * 1024 * 1024)]
    [InlineData("20MB", 20L * 1024 * 1024)]
    [InlineData("20m", 20L * 1024 * 1024)]
    [InlineData("1.5G", 1536L * 1024 * 1024)]
    [InlineData("1.5GB", 1536L * 1024 * 1024)]
    [InlineData("512K", 512L * 1024)]
    [InlineData("512k", 512L * 1024)]
    [InlineData("512KB", 512L * 1024)]
    [InlineData("100B", 100L)]
    [InlineData("4096", 4096L)]
    [InlineData("0", 0L)]
    public void Parse_SupportedForms_ReturnsBytesPerSecond(string text, long expected)
    {
        Rate.Parse(text).BytesPerSecond.Should().Be(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("M")]
    [InlineData("-5M")]
    [InlineData("20X")]
    [InlineData("abc")]
    [InlineData("1e9")]
    [InlineData("99999999999999999999G")]
    [InlineData(null)]
    public void TryParse_Invalid_IsRejected(string? text)
    {
        Rate.TryParse(text, out _).Should().BeFalse();
    }

    [Fact]
    public void Subtract_MaxMinusSystem_IsCdnRate()
    {
        (Rate.Parse("200MB") - Rate.Parse("20MB")).Should().Be(Rate.FromMegabytes(180));
        (Rate.Parse("1M") - Rate.Parse("2M")).Should().Be(Rate.Zero);
    }

    [Theory]
    [InlineData("20M", "20MB")]
    [InlineData("512K", "512KB")]
    [InlineData("1G", "1GB")]
    [InlineData("100", "100B")]
    public void ToString_UsesLargestExactUnit(string text, string expected)
    {
        Rate.Parse(text).ToString().Should().Be(expected);
    }
}
