using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Dragonfly.Supernode.Origin;

/// <summary>
/// Which addresses the supernode may connect to when it fetches a source (a registered task, a preheat, a redirect of
/// either): the operator's <c>sourceAllow</c> and <c>sourceDeny</c> lists of networks. An address in a deny network is
/// always refused; when the allow list is not empty, an address must also be in one of its networks. Both empty (the
/// default, as in the original) allows everything. IPv4-mapped IPv6 addresses (<c>::ffff:a.b.c.d</c>) are judged as the
/// IPv4 address they carry, in the lists and in the addresses checked.
/// </summary>
public sealed class SourceAddressPolicy
{
    public SourceAddressPolicy(IReadOnlyList<IPNetwork> allow, IReadOnlyList<IPNetwork> deny)
    {
        ArgumentNullException.ThrowIfNull(allow);
        ArgumentNullException.ThrowIfNull(deny);
        Allow = allow.Select(Normalize).ToArray();
        Deny = deny.Select(Normalize).ToArray();
    }

    /// <summary>The policy that allows every address (both lists empty).</summary>
    public static SourceAddressPolicy AllowAll { get; } = new([], []);

    public IReadOnlyList<IPNetwork> Allow { get; }

    public IReadOnlyList<IPNetwork> Deny { get; }

    /// <summary>True when both lists are empty: nothing is checked, connections are made as without a policy.</summary>
    public bool IsUnrestricted => Allow.Count == 0 && Deny.Count == 0;

    /// <summary>Whether the supernode may connect to <paramref name="address"/>.</summary>
    public bool Permits(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var normalized = Normalize(address);
        foreach (var network in Deny)
        {
            if (network.Contains(normalized))
            {
                return false;
            }
        }

        if (Allow.Count == 0)
        {
            return true;
        }

        foreach (var network in Allow)
        {
            if (network.Contains(normalized))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An IPv4-mapped IPv6 address as the IPv4 address it carries; any other address unchanged (scope kept).</summary>
    public static IPAddress Normalize(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>An IPv4-mapped IPv6 network of at least 96 bits (<c>::ffff:10.0.0.0/104</c>) as the IPv4 network it names.</summary>
    public static IPNetwork Normalize(IPNetwork network) =>
        network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96
            ? new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96)
            : network;

    /// <summary>
    /// Parses a network in CIDR notation (<c>10.0.0.0/8</c>, <c>fe80::/10</c>) or a bare address (a /32 or /128).
    /// IPv4 must be dotted decimal (four numbers, no leading zeros); a zone (<c>%eth0</c>) is refused; an address with
    /// bits set beyond the prefix is refused, with the network it probably meant.
    /// </summary>
    public static bool TryParseNetwork(string text, out IPNetwork network, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        network = default;
        var trimmed = text.Trim();
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? trimmed : trimmed[..slash];
        if (!TryParseAddress(addressText, out var address))
        {
            error = $"'{text}' is not an IP address or network (use e.g. 10.0.0.0/8, 169.254.169.254, fe80::/10)";
            return false;
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (slash >= 0)
        {
            var prefixText = trimmed[(slash + 1)..];
            if (prefixText.Length is 0 or > 3 || !prefixText.All(char.IsAsciiDigit) ||
                !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits ||
                (prefixText.Length > 1 && prefixText[0] == '0'))
            {
                error = $"'{text}' has an invalid prefix length (0 to {bits} for an IPv{(bits == 32 ? 4 : 6)} network)";
                return false;
            }
        }

        var masked = Mask(address, prefix);
        if (!masked.Equals(address))
        {
            error = $"'{text}' has bits set beyond its /{prefix} prefix (did you mean {masked}/{prefix}?)";
            return false;
        }

        network = Normalize(new IPNetwork(address, prefix));
        error = string.Empty;
        return true;
    }

    /// <summary>Parses a list of networks (see <see cref="TryParseNetwork"/>); the first bad entry fails the whole list.</summary>
    public static bool TryParseNetworks(IEnumerable<string> texts, out IReadOnlyList<IPNetwork> networks, out string error)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var parsed = new List<IPNetwork>();
        foreach (var text in texts)
        {
            if (!TryParseNetwork(text, out var network, out error))
            {
                networks = [];
                return false;
            }

            parsed.Add(network);
        }

        networks = parsed;
        error = string.Empty;
        return true;
    }

    public override string ToString() =>
        $"allow [{string.Join(", ", Allow)}], deny [{string.Join(", ", Deny)}]";

    private static bool TryParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Length == 0 || text.Contains('%', StringComparison.Ordinal))
        {
            return false;
        }

        if (text.Contains(':', StringComparison.Ordinal))
        {
            return IPAddress.TryParse(text, out address!) && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        // IPAddress.TryParse also takes "127.1", "0x7f.0.0.1" and octal parts: an operator's list says what it means.
        var parts = text.Split('.');
        if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit) || (p.Length > 1 && p[0] == '0') ||
            int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture) > 255))
        {
            return false;
        }

        address = IPAddress.Parse(text);
        return true;
    }

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
