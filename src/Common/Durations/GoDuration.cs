using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Dragonfly.Common.Durations;

/// <summary>
/// Durations written the way the original's flags and YAML take them (Go's <c>time.ParseDuration</c>): <c>3m</c>, <c>6s</c>,
/// <c>1h30m</c>, <c>500ms</c>, <c>1.5h</c>, <c>250us</c>, <c>100ns</c>, <c>0</c>, with an optional leading <c>+</c>. A bare number other
/// than 0 is rejected, as in Go, because its unit would be a guess; so is a negative duration, which no setting here accepts.
/// </summary>
public static class GoDuration
{
    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"invalid duration '{text}': use e.g. 3m, 6s, 1h30m or 500ms");

    public static bool TryParse([NotNullWhen(true)] string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.AsSpan().Trim();
        if (s[0] == '+')
        {
            s = s[1..];
        }

        if (s is "0")
        {
            return true;
        }

        if (s.IsEmpty)
        {
            return false;
        }

        decimal ticks = 0;
        while (!s.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < s.Length && (char.IsAsciiDigit(s[numberLength]) || s[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0 ||
                !decimal.TryParse(s[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            s = s[numberLength..];
            var unitLength = 0;
            while (unitLength < s.Length && !char.IsAsciiDigit(s[unitLength]) && s[unitLength] != '.')
            {
                unitLength++;
            }

            decimal ticksPerUnit = s[..unitLength] switch
            {
                "ns" => 0.01m,
                "us" or "µs" or "μs" => TimeSpan.TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => -1,
            };
            if (ticksPerUnit < 0 || number > TimeSpan.MaxValue.Ticks / ticksPerUnit)
            {
                return false;
            }

            s = s[unitLength..];
            ticks += number * ticksPerUnit;
            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                return false;
            }
        }

        value = TimeSpan.FromTicks((long)Math.Round(ticks));
        return true;
    }

    /// <summary>Formats like Go's <c>Duration.String</c> for whole units: <c>3m0s</c> becomes <c>3m</c>, <c>1h30m</c>, <c>500ms</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        if (value.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            // Exact: TotalMilliseconds is a double, which drops ticks of a duration beyond about 2.8 years.
            return string.Create(CultureInfo.InvariantCulture, $"{value.Ticks / (decimal)TimeSpan.TicksPerMillisecond:0.####}ms");
        }

        var sb = new StringBuilder();
        var hours = (long)value.TotalHours;
        if (hours > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{hours}h");
        }

        if (value.Minutes > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{value.Minutes}m");
        }

        if (value.Seconds > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{value.Seconds}s");
        }

        return sb.ToString();
    }
}
