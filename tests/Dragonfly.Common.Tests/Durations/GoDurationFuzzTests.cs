using Dragonfly.Common.Durations;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Common.Tests.Durations;

/// <summary>
/// Hostile duration text (flags and YAML of all three programs): false or <see cref="FormatException"/>, never an
/// overflow; a duration that parses is not negative, and every formatted duration parses back to itself.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class GoDurationFuzzTests
{
    private static readonly string[] Valid = ["3m", "6s", "1h30m", "500ms", "1.5h", "250us", "100ns", "0", "+2m", "2562047h47m16.854775807s"];

    private static readonly string[] Tokens = ["1", "0", ".", "5", "h", "m", "s", "ms", "us", "\u00b5s", "\u03bcs", "ns", "+", "-", " ", "d", "9999999999999999999", "2562047h"];

    [Fact]
    public Task TryParse_HostileText_FalseOrANonNegativeDuration() => Fuzzer.RunAsync(20_000, c =>
    {
        var text = FuzzText.Hostile(c.Random, Valid, Tokens);
        c.SetInput(text);
        if (GoDuration.TryParse(text, out var value))
        {
            value.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero);
            GoDuration.Parse(text).Should().Be(value);
        }
        else
        {
            FluentActions.Invoking(() => GoDuration.Parse(text)).Should().Throw<FormatException>();
        }
    });

    [Fact]
    public Task Format_AnyDuration_ParsesBackToItself() => Fuzzer.RunAsync(20_000, c =>
    {
        var ticks = c.Random.Next(4) switch
        {
            0 => c.Random.NextInt64(0, TimeSpan.MaxValue.Ticks),
            1 => c.Random.NextInt64(0, 100_000) * TimeSpan.TicksPerSecond,
            2 => c.Random.NextInt64(0, 10_000_000) * TimeSpan.TicksPerMillisecond,
            _ => c.Random.NextInt64(0, 1_000_000),
        };
        var value = TimeSpan.FromTicks(ticks);
        var text = GoDuration.Format(value);
        c.SetInput($"{ticks} ticks -> {text}");
        GoDuration.TryParse(text, out var again).Should().BeTrue();
        again.Should().Be(value);
    });
}
