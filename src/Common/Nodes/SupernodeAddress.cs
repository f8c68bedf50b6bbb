using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Dragonfly.Common.Nodes;

/// <summary>One supernode a client may talk to: <c>host[:port][=weight]</c>, the weight from 1 to <see cref="MaxWeight"/>.</summary>
public sealed record SupernodeAddress(string Host, int Port, int Weight)
{
    public const int DefaultPort = 8002;

    /// <summary>
    /// The largest weight: a client walks its supernodes in a list holding each one weight times
    /// (<see cref="SupernodeList.Expand"/>), so <c>a=2000000000,b=1</c> would take gigabytes before the first request.
    /// </summary>
    public const int MaxWeight = 1000;

    public string HostPort => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    public Uri BaseUri => new($"http://{HostPort}/");

    public override string ToString() => HostPort;

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out SupernodeAddress? address, out string? error)
    {
        address = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "empty supernode address";
            return false;
        }

        var s = text.Trim();
        var weight = 1;
        var eq = s.LastIndexOf('=');
        if (eq >= 0)
        {
            if (!int.TryParse(s.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out weight) || weight is < 1 or > MaxWeight)
            {
                error = $"invalid weight in supernode address '{text}': use 1 to {MaxWeight}";
                return false;
            }

            s = s[..eq];
        }

        var port = DefaultPort;
        string host;
        if (s.StartsWith('['))
        {
            var close = s.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"invalid supernode address '{text}'";
                return false;
            }

            host = s[1..close];
            var rest = s[(close + 1)..];
            if (rest.Length > 0 && (!rest.StartsWith(':') || !TryPort(rest[1..], out port)))
            {
                error = $"invalid port in supernode address '{text}'";
                return false;
            }
        }
        else
        {
            var colon = s.IndexOf(':', StringComparison.Ordinal);
            host = colon < 0 ? s : s[..colon];
            if (colon >= 0 && !TryPort(s[(colon + 1)..], out port))
            {
                error = $"invalid port in supernode address '{text}'";
                return false;
            }
        }

        if (host.Length == 0 || Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            error = $"invalid host in supernode address '{text}'";
            return false;
        }

        address = new SupernodeAddress(host, port, weight);
        return true;
    }

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
}
