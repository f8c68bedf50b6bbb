namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// The alive timer: when the uploader last received an upload, check or rate request, and whether it has decided to
/// stop. Once stopping it stays so, and the decision and a <c>/check/</c> exclude each other: a check either keeps the
/// uploader alive or is refused, never accepted by an uploader about to close its port.
/// </summary>
public sealed class UploaderActivity
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _last;
    private bool _stopping;

    public UploaderActivity(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _last = time.GetTimestamp();
    }

    public TimeSpan Idle => _time.GetElapsedTime(Interlocked.Read(ref _last));

    /// <summary>True once the uploader has decided to stop (<see cref="TryBeginStopping"/>, <see cref="BeginStopping"/>).</summary>
    public bool IsStopping => Volatile.Read(ref _stopping);

    public void Touch() => Interlocked.Exchange(ref _last, _time.GetTimestamp());

    /// <summary>Counts a request as activity unless the uploader is stopping (then false: the request is refused).</summary>
    public bool TryTouch()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return false;
            }

            Touch();
            return true;
        }
    }

    /// <summary>
    /// Decides to stop when neither a request (<see cref="Idle"/>) nor a download in progress
    /// (<paramref name="sinceDownloadWrite"/>, the time since one last wrote its file) happened for
    /// <paramref name="aliveTime"/>; true when the uploader is stopping.
    /// </summary>
    public bool TryBeginStopping(TimeSpan aliveTime, TimeSpan sinceDownloadWrite)
    {
        lock (_gate)
        {
            if (!_stopping && Idle >= aliveTime && sinceDownloadWrite >= aliveTime)
            {
                Volatile.Write(ref _stopping, true);
            }

            return _stopping;
        }
    }

    /// <summary>Stops regardless of activity (a signal, <see cref="PeerServer.RequestShutdown"/>).</summary>
    public void BeginStopping()
    {
        lock (_gate)
        {
            Volatile.Write(ref _stopping, true);
        }
    }
}
