namespace Dragonfly.Supernode.Admin;

/// <summary>
/// When a client that keeps presenting wrong admin tokens is locked out (<c>adminMaxFailures</c>,
/// <c>adminFailureWindow</c>, <c>adminLockout</c>). <see cref="MaxFailures"/> 0 turns lockouts off.
/// </summary>
public sealed record AdminLockoutOptions(int MaxFailures, TimeSpan FailureWindow, TimeSpan Lockout)
{
    /// <summary>10 wrong tokens within a minute lock the client out for a minute.</summary>
    public static AdminLockoutOptions Default { get; } = new(10, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
}

/// <summary>A lockout that a wrong token just started.</summary>
/// <param name="Client">The client whose wrong token reached the limit.</param>
/// <param name="Shared">
/// True when the client was not tracked (the table was full) and the lockout therefore applies to every untracked client.
/// </param>
public sealed record AdminLockout(ClientAddress Client, bool Shared);

/// <summary>
/// Failed-attempt throttling of the admin token, fail2ban-style: a client (<see cref="ClientAddress"/>) that presents
/// <see cref="AdminLockoutOptions.MaxFailures"/> wrong tokens (403) within <see cref="AdminLockoutOptions.FailureWindow"/>
/// is refused on every protected route for <see cref="AdminLockoutOptions.Lockout"/>, <b>even with the right token</b>:
/// were the right one let through, the lockout's 429 would itself tell a guesser which guesses were wrong, and the
/// throttle would slow nothing. The price, that someone sharing the operator's address (NAT, a proxy) can keep the
/// operator out for a while, is bounded by the lockout's length and leaves the data plane untouched. A missing token
/// (401) is no guess and does not count: clients and browsers first try without credentials. The right token forgets a
/// client's failures. At most <see cref="Capacity"/> clients are tracked; beyond that, the untracked ones share one
/// counter (<see cref="ClientTable{TEntry}"/>), so a guesser spraying from many addresses is throttled as one.
/// Time comes from the injected <see cref="TimeProvider"/>'s monotonic timestamp (a wall-clock jump changes nothing).
/// </summary>
public sealed class AdminLockouts
{
    /// <summary>How many clients are tracked at most.</summary>
    public const int DefaultCapacity = 4096;

    private readonly Lock _gate = new();
    private readonly ClientTable<Entry> _clients;
    private readonly TimeProvider _time;
    private readonly long _origin;

    public AdminLockouts(AdminLockoutOptions options, TimeProvider time, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxFailures);
        Options = options;
        _time = time;
        _origin = time.GetTimestamp();
        _clients = new ClientTable<Entry>(capacity, () => new Entry());
    }

    public AdminLockoutOptions Options { get; }

    public int Capacity => _clients.Capacity;

    private bool Enabled => Options.MaxFailures > 0;

    /// <summary>True, with how long it still lasts, when <paramref name="client"/> is locked out of the protected routes.</summary>
    public bool IsLockedOut(ClientAddress client, out TimeSpan remaining)
    {
        remaining = TimeSpan.Zero;
        if (!Enabled)
        {
            return false;
        }

        var now = Now();
        lock (_gate)
        {
            // An untracked client counts with the shared entry only while the table is full (else it would get its own).
            var entry = _clients.Find(client) ?? (_clients.Count >= _clients.Capacity ? _clients.Overflow : null);
            if (entry is null || entry.LockedUntil <= now)
            {
                return false;
            }

            remaining = entry.LockedUntil - now;
            return true;
        }
    }

    /// <summary>Counts a wrong token from <paramref name="client"/>; the lockout it starts, if it reaches the limit.</summary>
    public AdminLockout? Failed(ClientAddress client)
    {
        if (!Enabled)
        {
            return null;
        }

        var now = Now();
        lock (_gate)
        {
            var entry = _clients.GetOrAdd(client, now);
            if (entry.LockedUntil > now)
            {
                // Checked before the lockout began (a concurrent request): the lockout already runs.
                return null;
            }

            if (now >= entry.WindowEnd)
            {
                entry.WindowEnd = now + Options.FailureWindow;
                entry.Failures = 0;
            }

            if (++entry.Failures < Options.MaxFailures)
            {
                return null;
            }

            entry.LockedUntil = now + Options.Lockout;
            entry.Failures = 0;
            entry.WindowEnd = now;
            return new AdminLockout(client, ReferenceEquals(entry, _clients.Overflow));
        }
    }

    /// <summary>The right token: forgets <paramref name="client"/>'s wrong ones (the shared counter is kept).</summary>
    public void Succeeded(ClientAddress client)
    {
        if (!Enabled)
        {
            return;
        }

        var now = Now();
        lock (_gate)
        {
            if (_clients.Find(client) is { } entry && entry.LockedUntil <= now)
            {
                _clients.Remove(client);
            }
        }
    }

    private TimeSpan Now() => _time.GetElapsedTime(_origin);

    private sealed class Entry : IExpiringEntry
    {
        public TimeSpan WindowEnd { get; set; }

        public int Failures { get; set; }

        public TimeSpan LockedUntil { get; set; }

        public TimeSpan ExpiresAt => WindowEnd > LockedUntil ? WindowEnd : LockedUntil;
    }
}
