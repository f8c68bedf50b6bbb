namespace Dragonfly.Dfget.Uploader;

/// <summary>When the uploader last received an upload, check or rate request (the alive timer).</summary>
public sealed class UploaderActivity
{
    private readonly TimeProvider _time;
    private long _last;

    public UploaderActivity(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _last = time.GetTimestamp();
    }

    public void Touch() => Interlocked.Exchange(ref _last, _time.GetTimestamp());

    public TimeSpan Idle => _time.GetElapsedTime(Interlocked.Read(ref _last));
}
