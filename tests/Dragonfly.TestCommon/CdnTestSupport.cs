namespace Dragonfly.TestCommon;

/// <summary>A manually advanced clock for CDN tests (metadata access times, GC gaps). Timers are not virtualised.</summary>
public sealed class CdnTestClock : TimeProvider
{
    private DateTimeOffset _now;

    public CdnTestClock(DateTimeOffset? start = null) => _now = start ?? new DateTimeOffset(2026, 11, 21, 5, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
