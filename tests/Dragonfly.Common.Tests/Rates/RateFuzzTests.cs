using Dragonfly.Common.Rates;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Common.Tests.Rates;

/// <summary>Hostile rate text (<c>--locallimit</c>, <c>--totallimit</c>, dfdaemon's <c>ratelimit</c>): false or
/// <see cref="FormatException"/>, never an overflow; a rate that parses is not negative and formats back to itself.</summary>
[Trait("Category", "Fuzz")]
public sealed class RateFuzzTests
{
    private static readonly string[] Valid = ["20M", "20MB", "1.5G", "512K", "512k", "100B", "1000", "0"];

    private static readonly string[] Tokens = ["1", "0", ".", "5", "K", "M", "G", "B", "b", "k", "m", "g", "T", "KB", "MB", "-", "+", " ", "e", "8796093022207", "8796093022208"];

    [Fact]
    public Task TryParse_HostileText_FalseOrANonNegativeRateThatRoundTrips() => Fuzzer.RunAsync(20_000, c =>
    {
        var text = FuzzText.Hostile(c.Random, Valid, Tokens);
        c.SetInput(text);
        if (Rate.TryParse(text, out var rate))
        {
            rate.BytesPerSecond.Should().BeGreaterThanOrEqualTo(0);
            Rate.Parse(rate.ToString()).Should().Be(rate);
        }
        else
        {
            FluentActions.Invoking(() => Rate.Parse(text)).Should().Throw<FormatException>();
        }
    });
}
