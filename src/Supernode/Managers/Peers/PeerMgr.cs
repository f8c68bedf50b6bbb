using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Dragonfly.Common.Errors;
using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.Peers;

/// <summary>Registered peers. See <see cref="IPeerMgr"/>.</summary>
public sealed class PeerMgr : IPeerMgr
{
    private const long NanosPerTick = 100;
    private readonly ConcurrentDictionary<PeerId, PeerSnapshot> _peers = new();
    private readonly TrackerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _supernodeGate = new();
    private long _lastNanos;
    private PeerSnapshot? _supernode;

    public PeerMgr(TrackerOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options;
        _timeProvider = timeProvider;
    }

    /// <inheritdoc />
    public PeerSnapshot? Supernode => Volatile.Read(ref _supernode);

    /// <inheritdoc />
    public int Count => _peers.Count;

    /// <inheritdoc />
    public PeerSnapshot Register(PeerRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        Validate(registration);
        var pattern = registration.Pattern ?? (registration.Port == 0 ? PeerPattern.Cdn : PeerPattern.P2P);
        return Add(registration.Ip, registration.HostName, registration.Port, registration.Version, pattern, isSupernode: false);
    }

    /// <inheritdoc />
    public PeerSnapshot RegisterSupernode()
    {
        lock (_supernodeGate)
        {
            if (_supernode is { } existing && _peers.ContainsKey(existing.Id))
            {
                return existing;
            }

            var peer = Add(_options.AdvertiseIp, _options.HostName, _options.DownloadPort, _options.Version, PeerPattern.P2P, isSupernode: true);
            Volatile.Write(ref _supernode, peer);
            return peer;
        }
    }

    /// <inheritdoc />
    public bool TryGet(PeerId peerId, out PeerSnapshot peer) => _peers.TryGetValue(peerId, out peer!);

    /// <inheritdoc />
    public PeerSnapshot Get(PeerId peerId) =>
        _peers.TryGetValue(peerId, out var peer) ? peer : throw DragonflyException.NotFound($"failed to get key {peerId.Value} from map");

    /// <inheritdoc />
    public IReadOnlyList<PeerSnapshot> List(PeerListQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.PageNum < 0 || query.PageSize < 0)
        {
            throw DragonflyException.Invalid($"page {query.PageNum} size {query.PageSize}");
        }

        var all = _peers.Values.ToArray();
        Array.Sort(all, static (a, b) =>
        {
            var c = a.Created.CompareTo(b.Created);
            return c != 0 ? c : string.CompareOrdinal(a.Id.Value, b.Id.Value);
        });
        if (query.Direction == SortDirection.Descending)
        {
            Array.Reverse(all);
        }

        return Paging.Page(all, query.PageNum, query.PageSize);
    }

    /// <inheritdoc />
    public bool Delete(PeerId peerId) => _peers.TryRemove(peerId, out _);

    private PeerSnapshot Add(string ip, string hostName, int port, string? version, PeerPattern pattern, bool isSupernode)
    {
        var now = _timeProvider.GetUtcNow();
        var id = PeerId.Create(hostName, ip, NextNanos(now));
        var peer = new PeerSnapshot(id, ip, hostName, port, version, pattern, now, isSupernode);
        _peers[id] = peer;
        return peer;
    }

    /// <summary>Unix nanoseconds of now, strictly increasing so two registrations in one tick get distinct ids.</summary>
    private long NextNanos(DateTimeOffset now)
    {
        var candidate = (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * NanosPerTick;
        while (true)
        {
            var last = Volatile.Read(ref _lastNanos);
            var next = Math.Max(candidate, last + 1);
            if (Interlocked.CompareExchange(ref _lastNanos, next, last) == last)
            {
                return next;
            }
        }
    }

    private static void Validate(PeerRegistration registration)
    {
        if (!IPAddress.TryParse(registration.Ip, out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || registration.Ip.Count(static c => c == '.') != 3)
        {
            throw DragonflyException.Invalid($"ip: {registration.Ip}");
        }

        if (!IsHostName(registration.HostName))
        {
            throw DragonflyException.Invalid($"hostName: {registration.HostName}");
        }

        if (registration.Port != 0 && registration.Port is < 15000 or > 65000)
        {
            throw DragonflyException.Invalid($"port: {registration.Port}");
        }

        if (registration.Version is { Length: > 128 })
        {
            throw DragonflyException.Invalid("version: too long");
        }
    }

    /// <summary>A host name that can be part of a peer id: 1..255 of letters, digits, <c>-</c>, <c>.</c>, <c>_</c>.</summary>
    private static bool IsHostName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 255)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
