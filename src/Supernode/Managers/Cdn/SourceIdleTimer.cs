using System.Globalization;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>
/// Bounds each read of a source body by <see cref="CdnOptions.SourceIdleTimeout"/>: a source that sends some bytes and then
/// goes silent fails the run (<see cref="SourceTimeoutException"/>, an ordinary resumable source fault) instead of keeping
/// the task RUNNING for ever. The timer runs only while a read is pending, so rate limiting does not count as idle time.
/// </summary>
internal sealed class SourceIdleTimer : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _outer;
    private readonly CancellationTokenSource _idle;
    private readonly CancellationTokenSource _linked;

    public SourceIdleTimer(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        _timeout = timeout;
        _outer = cancellationToken;
        _idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _idle.Token);
    }

    public async ValueTask<int> ReadAsync(Stream body, Memory<byte> destination)
    {
        _idle.CancelAfter(_timeout);
        try
        {
            return await body.ReadAsync(destination, _linked.Token);
        }
        catch (OperationCanceledException) when (_idle.IsCancellationRequested && !_outer.IsCancellationRequested)
        {
            throw new SourceTimeoutException(string.Create(CultureInfo.InvariantCulture, $"source sent nothing for {_timeout.TotalSeconds:0.###}s"));
        }
        finally
        {
            if (!_idle.IsCancellationRequested)
            {
                _idle.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Dispose()
    {
        _linked.Dispose();
        _idle.Dispose();
    }
}

/// <summary>A source that stopped answering (no response headers, or a silent body): a resumable source fault like a broken stream.</summary>
internal sealed class SourceTimeoutException(string message) : IOException(message);
