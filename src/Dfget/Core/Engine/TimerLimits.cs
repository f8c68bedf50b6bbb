namespace Dragonfly.Dfget.Engine;

/// <summary>
/// The longest delay a <see cref="CancellationTokenSource"/> accepts (2^32 − 2 ms, about 49.7 days). A timeout the user
/// gives (<c>--timeout 2000h</c>) or derives (a huge file over a low <c>--minrate</c>) beyond it means "no sooner than
/// that", not an exception.
/// </summary>
internal static class TimerLimits
{
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary><paramref name="delay"/>, at most <see cref="MaxDelay"/>.</summary>
    public static TimeSpan Clamp(TimeSpan delay) => delay > MaxDelay ? MaxDelay : delay;

    /// <summary><paramref name="seconds"/> as a delay, at most <see cref="MaxDelay"/> (NaN and infinity included).</summary>
    public static TimeSpan FromSeconds(double seconds) =>
        double.IsNaN(seconds) || seconds >= MaxDelay.TotalSeconds ? MaxDelay : TimeSpan.FromSeconds(seconds);
}
