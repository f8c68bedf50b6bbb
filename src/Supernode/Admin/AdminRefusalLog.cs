using System.Net;
using Dragonfly.Common.Durations;

namespace Dragonfly.Supernode.Admin;

/// <summary>
/// The refusals of the admin token check, logged so that someone guessing tokens cannot flood the log: the first refusal
/// of a client (<see cref="ClientAddress"/>) is logged at WARN and opens a <see cref="Window"/> in which its further
/// refusals are only counted; the count is logged as one line when the window has ended, at the client's next logged
/// refusal or at the next sweep (every <see cref="Window"/>), whichever comes first. At most <see cref="Capacity"/> clients
/// are tracked; the rest share one window, so the log grows by a bounded number of lines per window however many
/// addresses the refusals come from, and memory stays bounded too.
/// </summary>
internal sealed class AdminRefusalLog : IDisposable
{
    /// <summary>How many clients have their own window at most.</summary>
    public const int DefaultCapacity = 256;

    /// <summary>One logged refusal per client per window.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly ClientTable<Entry> _clients;
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly ILogger<AdminRefusalLog> _logger;
    private readonly ITimer _sweeper;

    public AdminRefusalLog(TimeProvider time, ILogger<AdminRefusalLog> logger)
        : this(time, logger, DefaultCapacity)
    {
    }

    internal AdminRefusalLog(TimeProvider time, ILogger<AdminRefusalLog> logger, int capacity)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _time = time;
        _logger = logger;
        _origin = time.GetTimestamp();
        _clients = new ClientTable<Entry>(capacity, () => new Entry());
        _sweeper = time.CreateTimer(static state => ((AdminRefusalLog)state!).Sweep(), this, Window, Window);
    }

    public int Capacity => _clients.Capacity;

    /// <summary>Logs (or counts) one refusal of <paramref name="method"/> <paramref name="path"/> with <paramref name="status"/>.</summary>
    public void Refused(string method, string path, IPAddress? remote, ClientAddress client, int status)
    {
        var now = Now();
        var summaries = new List<Summary>();
        bool log;
        lock (_gate)
        {
            var entry = _clients.GetOrAdd(client, now, (c, e) => Collect(summaries, c, e));
            log = now >= entry.WindowEnd;
            if (log)
            {
                Collect(summaries, client, entry);
                entry.WindowEnd = now + Window;
            }
            else
            {
                entry.Suppressed++;
            }
        }

        Write(summaries);
        if (log)
        {
            AdminLog.Refused(_logger, method, path, remote?.ToString() ?? ClientAddress.Unknown.ToString(), status);
        }
    }

    public void Dispose() => _sweeper.Dispose();

    /// <summary>Logs the count of every window that has ended, and forgets those clients.</summary>
    internal void Sweep()
    {
        var now = Now();
        var summaries = new List<Summary>();
        lock (_gate)
        {
            _clients.Sweep(now, (c, e) => Collect(summaries, c, e));
            if (_clients.Overflow.WindowEnd <= now)
            {
                Collect(summaries, ClientAddress.Unknown, _clients.Overflow);
            }
        }

        Write(summaries);
    }

    /// <summary>Takes an entry's count of unlogged refusals (to be written once the lock is released).</summary>
    private void Collect(List<Summary> summaries, ClientAddress client, Entry entry)
    {
        if (entry.Suppressed > 0)
        {
            summaries.Add(new Summary(client, ReferenceEquals(entry, _clients.Overflow), entry.Suppressed));
            entry.Suppressed = 0;
        }
    }

    private void Write(List<Summary> summaries)
    {
        foreach (var summary in summaries)
        {
            if (summary.Shared)
            {
                AdminLog.SuppressedShared(_logger, summary.Count, Capacity, GoDuration.Format(Window));
            }
            else
            {
                AdminLog.Suppressed(_logger, summary.Count, summary.Client.ToString(), GoDuration.Format(Window));
            }
        }
    }

    private TimeSpan Now() => _time.GetElapsedTime(_origin);

    private readonly record struct Summary(ClientAddress Client, bool Shared, long Count);

    private sealed class Entry : IExpiringEntry
    {
        public TimeSpan WindowEnd { get; set; }

        public long Suppressed { get; set; }

        public TimeSpan ExpiresAt => WindowEnd;
    }
}
