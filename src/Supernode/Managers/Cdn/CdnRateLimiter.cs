using System.Threading.RateLimiting;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>
/// The shared source-read limit of the CDN (<c>MaxBandwidth − SystemBandwidth</c>), a token bucket in bytes.
/// All tasks draw from the same bucket, as in the original.
/// </summary>
public sealed class CdnRateLimiter : IDisposable
{
    private readonly TokenBucketRateLimiter? _limiter;

    public CdnRateLimiter(long bytesPerSecond)
    {
        if (bytesPerSecond <= 0)
        {
            ChunkSize = MaxChunk;
            return;
        }

        var perPeriod = (int)Math.Clamp(bytesPerSecond / 10, 1, int.MaxValue);
        var limit = (int)Math.Clamp(bytesPerSecond, 1, int.MaxValue);
        ChunkSize = Math.Min(MaxChunk, limit);
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    private const int MaxChunk = 256 * 1024;

    /// <summary>Largest single read the limiter accepts.</summary>
    public int ChunkSize { get; }

    public async ValueTask AcquireAsync(int bytes, CancellationToken cancellationToken)
    {
        if (_limiter is null || bytes <= 0)
        {
            return;
        }

        using var lease = await _limiter.AcquireAsync(Math.Min(bytes, ChunkSize), cancellationToken);
    }

    public void Dispose() => _limiter?.Dispose();
}
