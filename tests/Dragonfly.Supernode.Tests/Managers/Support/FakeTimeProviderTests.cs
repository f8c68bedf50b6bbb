using Dragonfly.TestCommon;

namespace Dragonfly.Supernode.Tests.Managers.Support;

public class FakeTimeProviderTests
{
    [Fact]
    public async Task Advance_PastDelay_CompletesTaskDelay()
    {
        var time = new FakeTimeProvider();
        var delay = Task.Delay(TimeSpan.FromSeconds(6), time);

        time.Advance(TimeSpan.FromSeconds(5));
        delay.IsCompleted.Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(1));

        await delay.WaitAsync(TimeSpan.FromSeconds(30));
        time.GetUtcNow().Should().Be(new DateTimeOffset(2026, 11, 21, 5, 0, 6, TimeSpan.Zero));
    }

    [Fact]
    public async Task Advance_SeveralPeriods_PeriodicTimerTicks()
    {
        var time = new FakeTimeProvider();
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(2), time);
        var tick = timer.WaitForNextTickAsync().AsTask();

        time.Advance(TimeSpan.FromMinutes(1));
        tick.IsCompleted.Should().BeFalse();
        time.Advance(TimeSpan.FromMinutes(1));

        (await tick.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
        time.GetElapsedTime(0).Should().Be(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void CreateTimer_Disposed_DoesNotFire()
    {
        var time = new FakeTimeProvider();
        var fired = 0;
        var timer = time.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        timer.Dispose();
        time.Advance(TimeSpan.FromSeconds(2));

        fired.Should().Be(0);
        time.ActiveTimers.Should().Be(0);
    }

    [Fact]
    public void Advance_PeriodicTimer_FiresOncePerPeriodAtItsDueTime()
    {
        var time = new FakeTimeProvider();
        var firedAt = new List<DateTimeOffset>();
        using var timer = time.CreateTimer(_ => firedAt.Add(time.GetUtcNow()), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

        time.Advance(TimeSpan.FromSeconds(6));

        firedAt.Select(t => (t - new DateTimeOffset(2026, 11, 21, 5, 0, 0, TimeSpan.Zero)).TotalSeconds).Should().Equal(1, 3, 5);
    }
}
