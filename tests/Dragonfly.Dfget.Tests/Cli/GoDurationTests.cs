using Dragonfly.Dfget.App.Cli;

namespace Dragonfly.Dfget.Tests.Cli;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1ms", 1)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("2h45m", 9_900_000)]
    [InlineData("1m30.5s", 90_500)]
    [InlineData("0", 0)]
    [InlineData("180000ms", 180_000)]
    [InlineData("+10s", 10_000)]
    public void TryParse_GoSyntax_Parses(string text, long milliseconds)
    {
        GoDuration.TryParse(text, out var value).Should().BeTrue();
        value.Should().Be(TimeSpan.FromMilliseconds(milliseconds));
    }

    [Fact]
    public void TryParse_SubMillisecondUnits_Parse()
    {
        GoDuration.TryParse("1500us", out var us).Should().BeTrue();
        us.Should().Be(TimeSpan.FromTicks(15_000));
        GoDuration.TryParse("100ns", out var ns).Should().BeTrue();
        ns.Should().Be(TimeSpan.FromTicks(1));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("s")]
    [InlineData("5 m")]
    [InlineData("1d")]
    [InlineData("1..5s")]
    [InlineData("99999999999999h")]
    public void TryParse_Invalid_Fails(string? text) => GoDuration.TryParse(text, out _).Should().BeFalse();
}
