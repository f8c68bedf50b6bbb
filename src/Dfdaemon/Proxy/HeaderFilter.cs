using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>Which headers cross dfdaemon: hop-by-hop ones never do (RFC 9110 §7.6.1), nor the ones a header names in <c>Connection</c>.</summary>
public static class HeaderFilter
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade",
    };

    private static readonly System.Buffers.SearchValues<char> TokenChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>True when <paramref name="name"/> is hop-by-hop, or listed in this message's <c>Connection</c> header.</summary>
    public static bool IsHopByHop(string name, StringValues connectionHeader)
    {
        if (HopByHop.Contains(name))
        {
            return true;
        }

        foreach (var value in connectionHeader)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var token in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (string.Equals(token, name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// True when Kestrel can send the field as is: a name of token characters (RFC 9110 §5.6.2) and a value of visible ASCII, spaces
    /// and tabs. Kestrel throws for anything else (control or non-ASCII characters), so an upstream's header that fails this is dropped.
    /// </summary>
    public static bool IsSendable(string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.AsSpan().ContainsAnyExcept(TokenChars))
        {
            return false;
        }

        foreach (var c in value ?? string.Empty)
        {
            if (c != '\t' && c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Request headers forwarded upstream: everything but Host and hop-by-hop headers (all values of repeated headers kept, in order).</summary>
    public static IEnumerable<KeyValuePair<string, StringValues>> ForUpstream(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var connection = headers.Connection;
        foreach (var header in headers)
        {
            if (string.Equals(header.Key, "Host", StringComparison.OrdinalIgnoreCase) || IsHopByHop(header.Key, connection))
            {
                continue;
            }

            yield return header;
        }
    }

    /// <summary>
    /// Headers handed to the P2P engine for a blob (PROTOCOL §4.2): all incoming headers except Host, with Accept-Encoding removed
    /// (the supernode must store the identity bytes) and hop-by-hop headers dropped; Authorization is kept so the supernode can
    /// fetch from the registry. Each as <c>"Key: value"</c>; repeated headers joined with <c>", "</c>.
    /// </summary>
    public static IReadOnlyList<string> ForBlob(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var list = new List<string>();
        foreach (var header in ForUpstream(headers))
        {
            if (string.Equals(header.Key, "Accept-Encoding", StringComparison.OrdinalIgnoreCase)
                || string.Equals(header.Key, "Range", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = string.Join(", ", header.Value.Where(v => !string.IsNullOrEmpty(v)));
            if (value.Length > 0 && !value.Contains('\r', StringComparison.Ordinal) && !value.Contains('\n', StringComparison.Ordinal))
            {
                list.Add(header.Key + ": " + value);
            }
        }

        return list;
    }
}
