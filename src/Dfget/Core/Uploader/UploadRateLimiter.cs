using System.Threading.RateLimiting;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// The host-wide upload limit (<c>--totallimit</c>, updated by every <c>/check/</c> with a positive <c>totalLimit</c>). One token bucket (1 token = 1 byte)
/// with a first-in-first-out queue: every upload acquires one bounded chunk at a time, so concurrent uploads of different
/// tasks take turns and share the limit evenly instead of the first stream starving the others.
/// </summary>
public sealed class UploadRateLimiter : IDisposable
{
    /// <summary>Largest chunk an upload writes between acquisitions.</summary>
    public const int MaxChunk = 64 * 1024;

    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(50);
    private readonly object _gate = new();
    private TokenBucketRateLimiter? _limiter;
    private long _bytesPerSecond;
    private bool _disposed;

    public UploadRateLimiter(long bytesPerSecond) => SetLimit(bytesPerSecond);

    /// <summary>The current limit in bytes per second; 0 = unlimited.</summary>
    public long BytesPerSecond => Interlocked.Read(ref _bytesPerSecond);

    /// <summary>The chunk size an upload should use: small for small limits so a burst never dwarfs the rate.</summary>
    public int ChunkSize
    {
        get
        {
            var rate = BytesPerSecond;
            return rate == 0 ? MaxChunk : (int)Math.Clamp(rate / 20, 1024, MaxChunk);
        }
    }

    public void SetLimit(long bytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond);
        TokenBucketRateLimiter? old;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (bytesPerSecond == _bytesPerSecond && (_limiter is not null || bytesPerSecond == 0))
            {
                return;
            }

            old = _limiter;
            _limiter = bytesPerSecond == 0 ? null : Create(bytesPerSecond);
            Interlocked.Exchange(ref _bytesPerSecond, bytesPerSecond);
        }

        // Waiters of the old bucket get failed leases and retry on the new one.
        old?.Dispose();
    }

    /// <summary>Waits until <paramref name="bytes"/> may be sent.</summary>
    public async ValueTask AcquireAsync(int bytes, CancellationToken cancellationToken)
    {
        var remaining = bytes;
        while (remaining > 0)
        {
            TokenBucketRateLimiter? limiter;
            lock (_gate)
            {
                limiter = _disposed ? null : _limiter;
            }

            if (limiter is null)
            {
                return;
            }

            var ask = Math.Min(remaining, ChunkSize);
            try
            {
                using var lease = await limiter.AcquireAsync(ask, cancellationToken).ConfigureAwait(false);
                if (lease.IsAcquired)
                {
                    remaining -= ask;
                }
                else if (ReferenceEquals(limiter, Volatile.Read(ref _limiter)))
                {
                    return;
                }
            }
            catch (ObjectDisposedException)
            {
                // The limit changed while waiting: retry on the new bucket.
            }
            catch (ArgumentOutOfRangeException)
            {
                // The chunk outgrew a bucket replaced meanwhile: retry with the new chunk size.
            }
        }
    }

    public void Dispose()
    {
        TokenBucketRateLimiter? old;
        lock (_gate)
        {
            _disposed = true;
            old = _limiter;
            _limiter = null;
        }

        old?.Dispose();
    }

    private static TokenBucketRateLimiter Create(long bytesPerSecond)
    {
        // In 128 bits: bytesPerSecond × Period.Ticks overflows a long from ~18 TB/s on.
        var perPeriod = (int)Int128.Clamp((Int128)bytesPerSecond * Period.Ticks / TimeSpan.TicksPerSecond, 1, int.MaxValue / 2);
        var chunk = (int)Math.Clamp(bytesPerSecond / 20, 1024, MaxChunk);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(perPeriod, chunk),
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = Period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }
}
