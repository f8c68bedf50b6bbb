using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dragonfly.Common.Http1;

/// <summary>
/// One parsed HTTP/1.x request head: the method, the path (query dropped, absolute form reduced to its path) or, for
/// <c>CONNECT</c>, the authority it names, the protocol version, whether the connection stays open after the response,
/// and the header fields other than those the parser itself acts on (<c>Host</c>, <c>Connection</c>,
/// <c>Content-Length</c>, <c>Transfer-Encoding</c>).
/// </summary>
public sealed class RequestHead
{
    private readonly KeyValuePair<string, string>[] _fields;

    public RequestHead(string method, string path, bool http11, bool keepAlive, params KeyValuePair<string, string>[] fields)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(fields);
        Method = method;
        Path = path;
        Http11 = http11;
        KeepAlive = keepAlive;
        _fields = fields;
    }

    public string Method { get; }

    /// <summary>The path; empty for <c>CONNECT</c>, whose target is <see cref="Authority"/>.</summary>
    public string Path { get; }

    /// <summary>The <c>host:port</c> a <c>CONNECT</c> names (RFC 9112 §3.2.3); null for every other method.</summary>
    public Authority? Authority { get; init; }

    public bool Http11 { get; }

    public bool KeepAlive { get; }

    /// <summary>The fields kept, in the order received.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields;

    /// <summary>The <c>Range</c> header when exactly one was sent.</summary>
    public string? Range => Field("Range");

    /// <summary>The value of the field named <paramref name="name"/> (case-insensitive) when it was sent exactly once;
    /// null when absent or repeated, so a request never means two things.</summary>
    public string? Field(string name)
    {
        string? found = null;
        foreach (var (key, value) in _fields)
        {
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                if (found is not null)
                {
                    return null;
                }

                found = value;
            }
        }

        return found;
    }
}

/// <summary>
/// The authority form of a request target, <c>host:port</c> (RFC 9112 §3.2.3): a DNS name or IPv4 address, or an IPv6
/// address in brackets (<see cref="Host"/> holds it without them), and a port from 1 to 65535. No user info, path or
/// query.
/// </summary>
public readonly record struct Authority(string Host, int Port)
{
    public static bool TryParse(ReadOnlySpan<byte> text, out Authority authority)
    {
        authority = default;
        var colon = text.LastIndexOf((byte)':');
        if (colon <= 0 || colon == text.Length - 1 || text.Length - colon - 1 > 5)
        {
            return false;
        }

        var port = 0;
        foreach (var b in text[(colon + 1)..])
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }

            port = (port * 10) + (b - '0');
        }

        if (port is 0 or > 65535)
        {
            return false;
        }

        var host = Encoding.ASCII.GetString(text[..colon]);
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
            if (!IPAddress.TryParse(host, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }
        }
        else if (Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
        {
            return false;
        }

        authority = new Authority(host, port);
        return true;
    }
}

public enum HeadParseStatus
{
    /// <summary>No complete head yet: read more (after advancing past <see cref="HeadParse.Consumed"/> bytes).</summary>
    Incomplete,

    /// <summary>A valid head of <see cref="HeadParse.Consumed"/> bytes.</summary>
    Complete,

    /// <summary>Not a request this port accepts: answer <see cref="HeadParse.ErrorStatus"/> and close.</summary>
    Invalid,
}

/// <summary>The outcome of parsing the bytes received so far.</summary>
public readonly record struct HeadParse(HeadParseStatus Status, RequestHead? Head, long Consumed, int ErrorStatus, string? Error)
{
    public static HeadParse Incomplete(long consumed) => new(HeadParseStatus.Incomplete, null, consumed, 0, null);

    public static HeadParse Invalid(int status, string error) => new(HeadParseStatus.Invalid, null, 0, status, error);
}

/// <summary>
/// A strict HTTP/1.x request-head parser (RFC 9112) for the servers that answer on a raw connection (the supernode's
/// download port, the uploader's piece path, dfdaemon's <c>CONNECT</c>). It accepts what HTTP clients send (Go's
/// net/http, .NET's HttpClient, curl) and rejects the rest with a status, never an exception:
/// <list type="bullet">
/// <item>a head over <see cref="MaxHeadBytes"/> or with over <see cref="MaxHeaderCount"/> fields: 431;</item>
/// <item>a malformed request line, bare LF or control bytes, whitespace before a colon, a folded line, a missing or
/// repeated <c>Host</c> in HTTP/1.1, a bad <c>Content-Length</c>, or any request body (these servers take none): 400;</item>
/// <item>a target that is not a path, or, where the caller accepts <c>CONNECT</c>, a <c>CONNECT</c> whose target is not
/// <c>host:port</c>: 400;</item>
/// <item>an HTTP version other than 1.0 and 1.1: 505.</item>
/// </list>
/// Empty lines before the request line are skipped (RFC 9112 §2.2). An accepted <c>CONNECT</c> without <c>Host</c> is taken:
/// its target already names the host, and proxy clients that write the request by hand have been seen to leave it out.
/// </summary>
public static class RequestHeadParser
{
    public const int MaxHeadBytes = 16 * 1024;
    public const int MaxHeaderCount = 100;

    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    /// <param name="buffer">The bytes received so far.</param>
    /// <param name="acceptConnect">Whether this server takes <c>CONNECT host:port</c> (a proxy); elsewhere its authority
    /// form is no path, and the request is 400 like any other target that is not.</param>
    public static HeadParse Parse(ReadOnlySequence<byte> buffer, bool acceptConnect = false)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.IsNext(Crlf, advancePast: true))
        {
        }

        var skipped = reader.Consumed;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, HeadEnd, advancePastDelimiter: true))
        {
            return reader.Remaining > MaxHeadBytes
                ? HeadParse.Invalid(431, "request head too large")
                : HeadParse.Incomplete(skipped);
        }

        if (head.Length + HeadEnd.Length > MaxHeadBytes)
        {
            return HeadParse.Invalid(431, "request head too large");
        }

        var bytes = head.IsSingleSegment ? head.FirstSpan : head.ToArray();
        var parsed = ParseHead(bytes, acceptConnect);
        return parsed.Status == HeadParseStatus.Complete ? parsed with { Consumed = reader.Consumed } : parsed;
    }

    private static HeadParse ParseHead(ReadOnlySpan<byte> head, bool acceptConnect)
    {
        var lineEnd = head.IndexOf(Crlf);
        var requestLine = lineEnd < 0 ? head : head[..lineEnd];
        var fields = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
        if (!TryParseRequestLine(requestLine, out var method, out var target, out var http11, out var versionError))
        {
            return versionError;
        }

        var path = string.Empty;
        Authority? authority = null;
        if (acceptConnect && method == "CONNECT")
        {
            if (!Authority.TryParse(target, out var named))
            {
                return HeadParse.Invalid(400, "CONNECT target is not host:port");
            }

            authority = named;
        }
        else if (!TryPath(target, out path))
        {
            return HeadParse.Invalid(400, "request target is not a path");
        }

        var kept = new List<KeyValuePair<string, string>>();
        var hostCount = 0;
        long? contentLength = null;
        var chunked = false;
        var close = false;
        var keepAliveToken = false;
        var count = 0;
        while (!fields.IsEmpty)
        {
            var end = fields.IndexOf(Crlf);
            var line = end < 0 ? fields : fields[..end];
            fields = end < 0 ? [] : fields[(end + 2)..];
            if (++count > MaxHeaderCount)
            {
                return HeadParse.Invalid(431, "too many header fields");
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                return HeadParse.Invalid(400, "malformed header field");
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (!IsFieldValue(value))
            {
                return HeadParse.Invalid(400, "control byte in a header value");
            }

            if (Ascii.EqualsIgnoreCase(name, "host"u8))
            {
                hostCount++;
            }
            else if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!TryLength(value, out var length) || (contentLength is { } seen && seen != length))
                {
                    return HeadParse.Invalid(400, "bad Content-Length");
                }

                contentLength = length;
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                chunked = true;
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                foreach (var token in Encoding.Latin1.GetString(value).Split(',', StringSplitOptions.TrimEntries))
                {
                    close |= token.Equals("close", StringComparison.OrdinalIgnoreCase);
                    keepAliveToken |= token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase);
                }
            }
            else
            {
                kept.Add(new(Encoding.ASCII.GetString(name), Encoding.Latin1.GetString(value)));
            }
        }

        if (hostCount > 1)
        {
            return HeadParse.Invalid(400, "more than one Host");
        }

        if (http11 && hostCount == 0 && authority is null)
        {
            return HeadParse.Invalid(400, "HTTP/1.1 request without Host");
        }

        if (chunked || contentLength > 0)
        {
            return HeadParse.Invalid(400, "request bodies are not accepted here");
        }

        var keepAlive = !close && (http11 || keepAliveToken);
        return new HeadParse(HeadParseStatus.Complete, new RequestHead(method, path, http11, keepAlive, [.. kept]) { Authority = authority }, 0, 0, null);
    }

    private static bool TryParseRequestLine(ReadOnlySpan<byte> line, out string method, out ReadOnlySpan<byte> target, out bool http11, out HeadParse error)
    {
        method = string.Empty;
        target = default;
        http11 = false;
        error = HeadParse.Invalid(400, "malformed request line");
        var first = line.IndexOf((byte)' ');
        var last = line.LastIndexOf((byte)' ');
        if (first <= 0 || last <= first + 1 || !IsToken(line[..first]))
        {
            return false;
        }

        target = line[(first + 1)..last];
        var version = line[(last + 1)..];
        foreach (var b in target)
        {
            if (b is <= 0x20 or >= 0x7F)
            {
                return false;
            }
        }

        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            http11 = true;
        }
        else if (!version.SequenceEqual("HTTP/1.0"u8))
        {
            if (version.Length == 8 && version.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)version[5]) && version[6] == '.' && char.IsAsciiDigit((char)version[7]))
            {
                error = HeadParse.Invalid(505, "HTTP version not supported");
            }

            return false;
        }

        method = Encoding.ASCII.GetString(line[..first]);
        return true;
    }

    /// <summary>Origin form (<c>/path?query</c>) or absolute form (<c>http://host/path</c>) to the path alone.</summary>
    private static bool TryPath(ReadOnlySpan<byte> target, out string path)
    {
        path = string.Empty;
        if (target.StartsWith("http://"u8) || target.StartsWith("https://"u8))
        {
            var authority = target[(target.IndexOf("//"u8) + 2)..];
            var slash = authority.IndexOf((byte)'/');
            target = slash < 0 ? "/"u8 : authority[slash..];
        }

        if (target.IsEmpty || target[0] != '/')
        {
            return false;
        }

        var query = target.IndexOfAny((byte)'?', (byte)'#');
        path = Encoding.ASCII.GetString(query < 0 ? target : target[..query]);
        return true;
    }

    private static bool TryLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.Length > 18)
        {
            return false;
        }

        foreach (var b in value)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }
        }

        return long.TryParse(Encoding.ASCII.GetString(value), NumberStyles.None, CultureInfo.InvariantCulture, out length);
    }

    private static bool IsToken(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            var ok = char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~"u8.Contains(b);
            if (!ok)
            {
                return false;
            }
        }

        return !text.IsEmpty;
    }

    private static bool IsFieldValue(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (b is < 0x20 and not (byte)'\t' or 0x7F)
            {
                return false;
            }
        }

        return true;
    }
}
