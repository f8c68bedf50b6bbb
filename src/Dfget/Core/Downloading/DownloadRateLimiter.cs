using System.Threading.RateLimiting;
using Dragonfly.Common.Rates;

namespace Dragonfly.Dfget.Downloading;

/// <summary>A byte-rate limit shared by all piece fetches (or the back-source stream) of one download; zero = unlimited.</summary>
public sealed class DownloadRateLimiter : IDisposable
{
    private readonly TokenBucketRateLimiter? _limiter;
    private readonly int _maxPermits;

    public DownloadRateLimiter(Rate rate)
    {
        if (rate.BytesPerSecond <= 0)
        {
            return;
        }

        var perSecond = (int)Math.Clamp(rate.BytesPerSecond, 1, int.MaxValue / 2);
        _maxPermits = perSecond;
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = perSecond,
            TokensPerPeriod = Math.Max(1, perSecond / 10),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    public static DownloadRateLimiter Unlimited => new(Rate.Zero);

    /// <summary>Whether there is a limit at all (zero = unlimited).</summary>
    public bool Limits => _limiter is not null;

    /// <summary>Waits until <paramref name="bytes"/> may pass.</summary>
    public async ValueTask AcquireAsync(int bytes, CancellationToken cancellationToken)
    {
        if (_limiter is null)
        {
            return;
        }

        while (bytes > 0)
        {
            var take = Math.Min(bytes, _maxPermits);
            using var lease = await _limiter.AcquireAsync(take, cancellationToken).ConfigureAwait(false);
            if (!lease.IsAcquired)
            {
                throw new InvalidOperationException("rate limiter queue exhausted");
            }

            bytes -= take;
        }
    }

    public void Dispose() => _limiter?.Dispose();
}
