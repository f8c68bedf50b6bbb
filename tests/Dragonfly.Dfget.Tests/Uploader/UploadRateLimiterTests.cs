using System.Diagnostics;
using Dragonfly.Dfget.Uploader;

namespace Dragonfly.Dfget.Tests.Uploader;

public sealed class UploadRateLimiterTests
{
    [Fact]
    public async Task Acquire_Unlimited_ReturnsAtOnce()
    {
        using var limiter = new UploadRateLimiter(0);

        await limiter.AcquireAsync(100 * 1024 * 1024, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        limiter.ChunkSize.Should().Be(UploadRateLimiter.MaxChunk);
    }

    [Fact]
    public async Task Acquire_BeyondTheBurst_WaitsForTokens()
    {
        using var limiter = new UploadRateLimiter(64 * 1024);
        var watch = Stopwatch.StartNew();

        await limiter.AcquireAsync(128 * 1024, CancellationToken.None);

        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(1.5), "128 KiB at 64 KiB/s after a ~3 KiB burst takes about 2 s");
    }

    [Fact]
    public async Task SetLimit_WhileWaiting_WaiterMovesToTheNewLimit()
    {
        using var limiter = new UploadRateLimiter(1024);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var waiting = limiter.AcquireAsync(1024 * 1024, timeout.Token).AsTask();
        await Task.Delay(200);
        waiting.IsCompleted.Should().BeFalse("1 MiB at 1 KiB/s takes ~17 minutes");

        limiter.SetLimit(0);

        await waiting.WaitAsync(timeout.Token);
        limiter.BytesPerSecond.Should().Be(0);
    }

    [Fact]
    public async Task Acquire_HugeLimit_DoesNotOverflowIntoATinyOne()
    {
        using var limiter = new UploadRateLimiter(18_446_744_073_710);

        await limiter.AcquireAsync(10 * 1024 * 1024, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        limiter.BytesPerSecond.Should().Be(18_446_744_073_710);
    }

    [Fact]
    public void ChunkSize_SmallLimit_StaysSmall()
    {
        using var limiter = new UploadRateLimiter(20 * 1024);

        limiter.ChunkSize.Should().Be(1024);
    }
}
