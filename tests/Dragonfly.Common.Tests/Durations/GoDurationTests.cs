using Dragonfly.Common.Durations;

namespace Dragonfly.Common.Tests.Durations;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("3m", 180_000)]
    [InlineData("1ms", 1)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("2h45m", 9_900_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1m30.5s", 90_500)]
    [InlineData("0", 0)]
    [InlineData("180000ms", 180_000)]
    [InlineData("+10s", 10_000)]
    [InlineData(" 6s ", 6_000)]
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
        GoDuration.TryParse("1500µs", out var micro).Should().BeTrue();
        micro.Should().Be(us);
        GoDuration.TryParse("100ns", out var ns).Should().BeTrue();
        ns.Should().Be(TimeSpan.FromTicks(1));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("+")]
    [InlineData("10")]
    [InlineData("s")]
    [InlineData("5x")]
    [InlineData("5 m")]
    [InlineData("3m 2s")]
    [InlineData("1d")]
    [InlineData("1..5s")]
    [InlineData("-3m")]
    [InlineData("99999999999999h")]
    [InlineData("99999999999999999999999999h")]
    public void TryParse_Invalid_Fails(string? text) => GoDuration.TryParse(text, out _).Should().BeFalse();

    [Fact]
    public void Parse_Invalid_ThrowsFormatExceptionNamingTheValue() =>
        FluentActions.Invoking(() => GoDuration.Parse("5x")).Should().Throw<FormatException>().WithMessage("*'5x'*");

    [Theory]
    [InlineData(180, "3m")]
    [InlineData(5400, "1h30m")]
    [InlineData(6, "6s")]
    [InlineData(0, "0s")]
    public void Format_WholeUnits_GoStyle(int seconds, string expected) => GoDuration.Format(TimeSpan.FromSeconds(seconds)).Should().Be(expected);

    [Fact]
    public void Format_SubSecond_InMilliseconds() => GoDuration.Format(TimeSpan.FromMilliseconds(500)).Should().Be("500ms");

    [Fact]
    public void Format_FractionOfASecondInAYearsLongDuration_ParsesBackToTheSameTicks()
    {
        // A double of milliseconds holds such a duration only to about a tenth of a millisecond.
        var value = TimeSpan.FromTicks(7_543_355_630_314_027_824);

        GoDuration.Format(value).Should().Be("754335563031402.7824ms");
        GoDuration.Parse(GoDuration.Format(value)).Should().Be(value);
    }
}
