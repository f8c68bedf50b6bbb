using System.Diagnostics;
using Dragonfly.Common.Rates;
using Dragonfly.Supernode.Managers.Cdn;

namespace Dragonfly.Supernode.Tests.Cdn;

public sealed class CdnRateLimiterTests
{
    [Fact]
    public async Task AcquireAsync_BeyondTheBurst_WaitsForTokens()
    {
        // 1 MiB/s: the first second's burst is free, the next 512 KiB must wait for ~0.5 s of tokens.
        using var limiter = new CdnRateLimiter(Rate.MB);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var watch = Stopwatch.StartNew();

        for (var sent = 0L; sent < Rate.MB + (512 * Rate.KB); sent += limiter.ChunkSize)
        {
            await limiter.AcquireAsync(limiter.ChunkSize, timeout.Token);
        }

        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(300), "the limiter cannot hand out more than the rate");
    }

    [Fact]
    public async Task AcquireAsync_Unlimited_NeverWaits()
    {
        using var limiter = new CdnRateLimiter(0);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        for (var i = 0; i < 10_000; i++)
        {
            await limiter.AcquireAsync(limiter.ChunkSize, timeout.Token);
        }

        new CdnOptions { MaxBandwidth = Rate.FromMegabytes(200), SystemBandwidth = Rate.FromMegabytes(20) }
            .SourceRateBytesPerSecond.Should().Be(180 * Rate.MB);
    }
}
