namespace Dragonfly.Supernode.Metrics;

/// <summary>
/// Remembers which downloads have reported through <c>POST /task/metrics</c>, so each is counted once. The original
/// dfget sends its report up to twice and stops only on a success envelope, while the reply is JSON <c>null</c>
/// (PROTOCOL.md §1): every original client's report arrives twice. A report is the same download when its task id and
/// cid repeat within <see cref="Window"/>.
/// </summary>
/// <remarks>Bounded: at most <see cref="Capacity"/> downloads are remembered; past that, the oldest are forgotten first.</remarks>
public sealed class DfgetReportLedger(TimeProvider timeProvider)
{
    /// <summary>How long a download's report is remembered.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>Downloads remembered at most.</summary>
    public const int Capacity = 65_536;

    /// <summary>The longest task id or cid remembered (a task id is 64 hex digits); longer ones are never real.</summary>
    public const int MaxIdLength = 256;

    private readonly object _gate = new();
    private readonly HashSet<(string TaskId, string Cid)> _seen = [];
    private readonly Queue<((string TaskId, string Cid) Key, long At)> _order = new();

    /// <summary>
    /// Whether this is the first report of the download (<paramref name="taskId"/>, <paramref name="cid"/>) within the
    /// window; records it. A report without both ids, or with one longer than <see cref="MaxIdLength"/>, cannot be matched
    /// and always counts (and costs the ledger no memory).
    /// </summary>
    public bool TryRecordFirst(string? taskId, string? cid)
    {
        if (string.IsNullOrEmpty(taskId) || string.IsNullOrEmpty(cid) || taskId.Length > MaxIdLength || cid.Length > MaxIdLength)
        {
            return true;
        }

        var now = timeProvider.GetTimestamp();
        var key = (taskId, cid);
        lock (_gate)
        {
            Forget(now);
            if (_seen.Contains(key))
            {
                return false;
            }

            if (_seen.Count >= Capacity)
            {
                _seen.Remove(_order.Dequeue().Key);
            }

            _seen.Add(key);
            _order.Enqueue((key, now));
            return true;
        }
    }

    private void Forget(long now)
    {
        while (_order.TryPeek(out var oldest) && timeProvider.GetElapsedTime(oldest.At, now) > Window)
        {
            _order.Dequeue();
            _seen.Remove(oldest.Key);
        }
    }
}
