using System.Net;
using System.Net.Sockets;

namespace Dragonfly.Supernode.Admin;

/// <summary>
/// Who made a request, as the admin token's refusal log and lockouts count it: an IPv4 address, or the /64 an IPv6
/// address is in (one host usually holds a whole /64, so counting single IPv6 addresses would let it try from 2^64 of
/// them). An IPv4-mapped IPv6 address is its IPv4 address. <see cref="Unknown"/> when the connection has no IP address.
/// </summary>
public readonly record struct ClientAddress
{
    private const int Ipv6HostPrefix = 64;

    private ClientAddress(IPNetwork? network) => Network = network;

    /// <summary>A request whose connection has no IP address (an in-memory test server, a Unix socket).</summary>
    public static ClientAddress Unknown { get; } = new(null);

    /// <summary>The network counted as one client (/32 for IPv4, /64 for IPv6); null for <see cref="Unknown"/>.</summary>
    public IPNetwork? Network { get; }

    public static ClientAddress Of(IPAddress? remote)
    {
        if (remote is null)
        {
            return Unknown;
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        return remote.AddressFamily == AddressFamily.InterNetworkV6
            ? new ClientAddress(new IPNetwork(Masked(remote, Ipv6HostPrefix), Ipv6HostPrefix))
            : new ClientAddress(new IPNetwork(remote, 32));
    }

    /// <summary>An IPv4 address as itself, an IPv6 client as its /64, or <c>unknown</c>.</summary>
    public override string ToString() => Network switch
    {
        null => "unknown",
        { PrefixLength: 32 } n when n.BaseAddress.AddressFamily == AddressFamily.InterNetwork => n.BaseAddress.ToString(),
        { } n => n.ToString(),
    };

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = prefix / 8; i < bytes.Length; i++)
        {
            bytes[i] = 0;
        }

        return new IPAddress(bytes);
    }
}
