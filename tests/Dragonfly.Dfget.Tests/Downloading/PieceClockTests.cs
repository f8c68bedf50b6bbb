using Dragonfly.Common.Rates;
using Dragonfly.Dfget.Downloading;

namespace Dragonfly.Dfget.Tests.Downloading;

public sealed class PieceClockTests
{
    [Fact]
    public async Task ThrottleAsync_TheLimitsWaitDoesNotCountTowardsThePieceTimeout()
    {
        using var limiter = new DownloadRateLimiter(new Rate(64 * 1024));
        var limit = TimeSpan.FromMilliseconds(300);
        using var timeout = new CancellationTokenSource(limit, TimeProvider.System);
        var clock = new PieceClock(timeout, limit, limiter, TimeProvider.System);

        await clock.ThrottleAsync(64 * 1024, timeout.Token);

        // The bucket is empty: 32 KiB more take about half a second at 64 KiB/s, longer than the whole timeout.
        await clock.ThrottleAsync(32 * 1024, timeout.Token);
        timeout.IsCancellationRequested.Should().BeFalse("the wait for the download's own limit is not the peer's slowness");

        // The time left before the wait still runs out afterwards.
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!timeout.IsCancellationRequested)
        {
            await Task.Delay(20, guard.Token);
        }
    }
}
