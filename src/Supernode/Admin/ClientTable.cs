namespace Dragonfly.Supernode.Admin;

/// <summary>A <see cref="ClientTable{TEntry}"/> entry: how long it must be kept.</summary>
internal interface IExpiringEntry
{
    /// <summary>When the entry holds nothing worth keeping any more (on the owner's monotonic clock).</summary>
    TimeSpan ExpiresAt { get; }
}

/// <summary>
/// Per-client state with a hard bound on memory: at most <see cref="Capacity"/> clients are tracked; while the table is
/// full, every other client shares the one <see cref="Overflow"/> entry (so a client spraying requests from many
/// addresses is counted as one, never grows the table). Expired entries are dropped when room is needed, at most once
/// per <see cref="MinSweepInterval"/>, or by the owner's <see cref="Sweep"/>. Not thread-safe: the owner locks.
/// </summary>
internal sealed class ClientTable<TEntry>
    where TEntry : class, IExpiringEntry
{
    /// <summary>The shortest time between two sweeps made to find room (each one walks the whole table).</summary>
    public static readonly TimeSpan MinSweepInterval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<ClientAddress, TEntry> _entries = [];
    private readonly Func<TEntry> _create;
    private TimeSpan _nextSweep;

    public ClientTable(int capacity, Func<TEntry> create)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentNullException.ThrowIfNull(create);
        Capacity = capacity;
        _create = create;
        Overflow = create();
    }

    public int Capacity { get; }

    public int Count => _entries.Count;

    /// <summary>The entry every untracked client shares while the table is full.</summary>
    public TEntry Overflow { get; }

    /// <summary>The client's entry, or null when it is not tracked.</summary>
    public TEntry? Find(ClientAddress client) => _entries.GetValueOrDefault(client);

    /// <summary>
    /// The client's entry, a new one when there is room (after dropping expired entries, passed to
    /// <paramref name="expired"/>), else <see cref="Overflow"/>.
    /// </summary>
    public TEntry GetOrAdd(ClientAddress client, TimeSpan now, Action<ClientAddress, TEntry>? expired = null)
    {
        if (_entries.TryGetValue(client, out var entry))
        {
            return entry;
        }

        if (_entries.Count >= Capacity && now >= _nextSweep)
        {
            Sweep(now, expired);
            _nextSweep = now + MinSweepInterval;
        }

        if (_entries.Count >= Capacity)
        {
            return Overflow;
        }

        entry = _create();
        _entries.Add(client, entry);
        return entry;
    }

    public bool Remove(ClientAddress client) => _entries.Remove(client);

    /// <summary>Drops every entry that has expired by <paramref name="now"/>, passing each to <paramref name="expired"/> first.</summary>
    public void Sweep(TimeSpan now, Action<ClientAddress, TEntry>? expired = null)
    {
        // Removing the current entry while enumerating is allowed (and keeps the enumeration valid) since .NET Core 3.0.
        foreach (var (client, entry) in _entries)
        {
            if (entry.ExpiresAt <= now)
            {
                _entries.Remove(client);
                expired?.Invoke(client, entry);
            }
        }
    }
}
