using Dragonfly.Supernode.Hosting;

namespace Dragonfly.Supernode.Tests.Hosting;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("3m", 180_000)]
    [InlineData("6s", 6_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("2m30s", 150_000)]
    [InlineData("0", 0)]
    public void TryParse_GoStyle_Parsed(string text, long milliseconds)
    {
        GoDuration.TryParse(text, out var value).Should().BeTrue();
        value.TotalMilliseconds.Should().Be(milliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5x")]
    [InlineData("m")]
    [InlineData("-3m")]
    [InlineData("3m 2s")]
    public void TryParse_Invalid_False(string text) => GoDuration.TryParse(text, out _).Should().BeFalse();

    [Theory]
    [InlineData(180, "3m")]
    [InlineData(5400, "1h30m")]
    [InlineData(6, "6s")]
    public void Format_WholeUnits_GoStyle(int seconds, string expected) => GoDuration.Format(TimeSpan.FromSeconds(seconds)).Should().Be(expected);
}
