using System.Globalization;
using System.Text;

namespace Dragonfly.TestCommon.Fuzzing;

/// <summary>
/// Hostile HTTP/1.x requests as raw bytes, built part by part (leading empty lines, method, target, version, header
/// fields, line ends, body) from a server's own valid <c>paths</c> and <c>headers</c> and from hostile alternatives for
/// each part: bad and overlong methods and lines, NUL and control bytes, traversal and percent-encoded targets, odd
/// versions, repeated or missing <c>Host</c>, bad <c>Content-Length</c> and chunked bodies, hostile <c>Range</c>s, folded and
/// colon-less fields; now and then a few byte edits on top.
/// </summary>
public sealed class HttpRequestFuzz(IReadOnlyList<string> paths, IReadOnlyList<string> headers, string host = "127.0.0.1")
{
    /// <summary><c>Range</c> values around what the piece servers parse.</summary>
    public static readonly string[] Ranges =
    [
        "bytes=0-9", "bytes=0-0", "bytes=-0", "bytes=-1", "bytes=0-", "bytes=5-1", "bytes=999999999999999999999-", "bytes=0-999999999999999999999",
        "bytes=9223372036854775807-", "bytes=9223372036854775806-9223372036854775807", "bytes=-9223372036854775807", "bytes=-9223372036854775808",
        "bytes=--1", "bytes=-", "bytes=", "bytes", "bytes = 0-9", "BYTES=0-9", "items=0-9", "bytes=0-9,10-19", "bytes=0x0-0x9", "bytes=+0-+9",
        "bytes=0-4194303", "bytes=4194304-8388607", "bytes=1-4194303", "bytes=0--9", "bytes=\u00a00-9", "bytes=0-9 ", "bytes=0-9,",
        "bytes=" + string.Join(',', Enumerable.Range(0, 500).Select(i => $"{i}-{i}")), "bytes=" + new string('9', 5000) + "-",
    ];

    /// <summary>Targets that try to leave a served directory or confuse a router.</summary>
    public static readonly string[] Traversals =
    [
        "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/..%2f..%2fetc%2fpasswd", "/..%5c..%5cetc%5cpasswd",
        "/%252e%252e%252fetc%252fpasswd", "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/./././etc/passwd", "//etc/passwd", "/.%00./etc/passwd",
        "/\\..\\..\\etc\\passwd", "/%00", "/.", "/..", "/%2e", "/..;/..;/etc/passwd", "/~root/.ssh/id_rsa", "/proc/self/environ",
    ];

    private static readonly string[] Methods = ["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH"];

    private static readonly string[] HostileMethods =
    [
        "", "get", "G ET", "GET\0", "\u0080GET", "GET\u007f", "G\tET", "(GET)", "GET:", new('A', 9000), "PRI", "M-SEARCH", "\x16\x03\x01",
    ];

    private static readonly string[] HostileTargets =
    [
        "*", "", " ", "/ /", "/a b", "/\0", "/\t", "//", "/?", "/#", "/%", "/%zz", "/%00", "/\u00ff", "http://127.0.0.1/", "http://[::1",
        "http://", "https://127.0.0.1:0/x", "http://a@b/x", "127.0.0.1:80", "localhost:1", "[::1]:443", "/" + new string('a', 9000),
        "/?" + new string('q', 9000), "/" + string.Concat(Enumerable.Repeat("a/", 3000)), "/x?a=%00&b=%zz&c=" + new string('%', 50),
    ];

    private static readonly string[] Versions = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0"];

    private static readonly string[] HostileVersions =
    [
        "HTTP/2.0", "HTTP/1.10", "HTTP/0.9", "http/1.1", "HTTP/1.1 ", "", "HTTP/1.1\0", "HTTP/9.9", "HTTP/1", "HTTP/1.a", "HTTPS/1.1", "HTTP/1.1x",
    ];

    private static readonly string[] HostileFields =
    [
        "Content-Length: -1", "Content-Length: 99999999999999999999", "Content-Length: 9223372036854775807", "Content-Length: 1, 2",
        "Content-Length: +5", "Content-Length: 0x10", "Content-Length: 5\r\nContent-Length: 6", "Content-Length:", "Content-Length: 1e3",
        "Transfer-Encoding: chunked", "Transfer-Encoding: chunked, gzip", "Transfer-Encoding: identity", "Transfer-Encoding: xchunked",
        "Transfer-Encoding: chunked\r\nContent-Length: 5", "Connection: close", "Connection: keep-alive", "Connection: upgrade\r\nUpgrade: h2c",
        "Connection: , , ,", "Expect: 100-continue", "Expect: 999-nope", "Host: a\r\nHost: b", "Host:", "Host: [::1", "Host: a b",
        "Host: " + new string('h', 5000), "X-Big: " + new string('v', 20_000), "NoColonHere", ": empty-name", "Bad Name: x", "Name : x",
        " folded: continuation", "\tfolded", "X-Nul: a\0b", "X-Ctl: a\u0001b", "X-Del: a\u007fb", "X-Latin: \u00e9\u00ff", "X-Empty:",
        "Accept-Encoding: gzip, br, zstd, *", "Authorization: Bearer " + new string('t', 3000), "Cookie: " + string.Concat(Enumerable.Repeat("a=b; ", 500)),
        "Content-Type: application/json; charset=utf-32", "Content-Type: multipart/form-data; boundary=", "Content-Type: application/x-www-form-urlencoded",
        "If-Range: \"x\"", "X-Forwarded-For: 1.2.3.4", "Proxy-Connection: keep-alive", "TE: trailers", "Max-Forwards: -1",
        "pieceNum: -1", "pieceNum: 2147483648", "pieceSize: 0", "pieceSize: 5", "pieceSize: 99999999999", "cdnSource: source",
        "dataDir: /", "dataDir: ../..", "dataDir: /etc", "totalLimit: -1", "totalLimit: 99999999999999999999", "rateLimit: -5",
    ];

    private readonly IReadOnlyList<string> _paths = paths ?? throw new ArgumentNullException(nameof(paths));
    private readonly IReadOnlyList<string> _headers = headers ?? throw new ArgumentNullException(nameof(headers));

    /// <summary>
    /// A body for a request to <c>path</c>, sent whole with its <c>Content-Length</c> (a JSON document for an API, say);
    /// null for none. Without it only the generator's own hostile bodies are sent.
    /// </summary>
    public Func<Random, string, string?>? Bodies { get; init; }

    /// <summary>One hostile request, as bytes.</summary>
    public byte[] Next(Random random) => NextRequest(random).Bytes;

    /// <summary>One hostile request, and whether it is whole (<see cref="FuzzRequest.Complete"/>).</summary>
    public FuzzRequest NextRequest(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var sb = new StringBuilder();
        if (random.Next(10) == 0)
        {
            sb.Append(string.Concat(Enumerable.Repeat("\r\n", random.Next(1, 4))));
        }

        var eol = random.Next(12) switch { 0 => "\n", 1 => "\r", _ => "\r\n" };
        var method = random.Next(6) == 0 ? Pick(random, HostileMethods) : Pick(random, Methods);
        var separator = random.Next(15) switch { 0 => "  ", 1 => "\t", _ => " " };
        var path = _paths.Count > 0 ? Pick(random, _paths) : "/";
        sb.Append(method).Append(separator).Append(Target(random, path)).Append(separator);
        sb.Append(random.Next(8) == 0 ? Pick(random, HostileVersions) : Pick(random, Versions)).Append(eol);

        if (random.Next(8) != 0)
        {
            sb.Append("Host: ").Append(host).Append(eol);
        }

        string? bodyKind = null;
        for (var n = random.Next(0, 7); n > 0; n--)
        {
            var field = random.Next(3) switch
            {
                0 => Pick(random, HostileFields),
                1 => "Range: " + Pick(random, Ranges),
                _ => _headers.Count > 0 ? Pick(random, _headers) : "X-None: x",
            };
            bodyKind ??= field.Contains("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) ? "chunked"
                : field.Contains("Content-Length:", StringComparison.OrdinalIgnoreCase) || field.Contains("Expect:", StringComparison.OrdinalIgnoreCase) ? "length" : null;
            sb.Append(field).Append(eol);
        }

        if (random.Next(40) == 0)
        {
            // Many fields: past every server's field count limit.
            for (var i = random.Next(90, 400); i > 0; i--)
            {
                sb.Append(CultureInfo.InvariantCulture, $"X-F{i}: {i}").Append(eol);
            }
        }

        var ended = random.Next(12) != 0;
        var body = string.Empty;
        if (ended && bodyKind is null && Bodies?.Invoke(random, path) is { } framed)
        {
            var bytes = Encoding.UTF8.GetByteCount(framed);
            sb.Append("Content-Type: ").Append(random.Next(6) == 0 ? "application/x-www-form-urlencoded" : "application/json").Append(eol);
            sb.Append(CultureInfo.InvariantCulture, $"Content-Length: {bytes}").Append(eol).Append(eol);
            var head = Encoding.Latin1.GetBytes(sb.ToString());
            return new FuzzRequest([.. head, .. Encoding.UTF8.GetBytes(framed)], Complete: eol == "\r\n");
        }

        if (ended)
        {
            sb.Append(eol);
            body = bodyKind is null && random.Next(3) != 0 ? string.Empty : Body(random, bodyKind);
            sb.Append(body);
        }

        var request = Encoding.Latin1.GetBytes(sb.ToString());
        if (random.Next(5) == 0)
        {
            return new FuzzRequest(RequestMutations.Mutate(random, request), Complete: false);
        }

        return new FuzzRequest(request, Complete: ended && eol == "\r\n" && bodyKind is null && body.Length == 0);
    }

    private string Target(Random random, string path)
    {
        return random.Next(10) switch
        {
            0 => Pick(random, HostileTargets),
            1 => Pick(random, Traversals),
            2 => path.TrimEnd('/') + Pick(random, Traversals),
            3 => InsertTraversal(random, path),
            4 => path + "?" + FuzzText.FromTokens(random, ["=", "&", "%", "a", "%20", "%00", "..", "/"], 20),
            5 => $"http://{host}{path}",
            _ => path,
        };
    }

    private static string InsertTraversal(Random random, string path)
    {
        var slashes = Enumerable.Range(0, path.Length).Where(i => path[i] == '/').ToArray();
        var at = slashes.Length == 0 ? 0 : slashes[random.Next(slashes.Length)];
        return path[..at] + Pick(random, ["/..", "/%2e%2e", "/%2E%2e%2F..", "/.", "//", "/..%2f", "/%00"]) + path[at..];
    }

    private static string Body(Random random, string? kind) => (kind, random.Next(6)) switch
    {
        (_, 0) => string.Empty,
        ("chunked", 1) => "5\r\nhello\r\n0\r\n\r\n",
        ("chunked", 2) => Pick(random, ["fffffffffffffffffff\r\n", "-5\r\nhello\r\n", "5;ext=\"x\r\nhello\r\n0\r\n\r\n", "zz\r\n", "5\r\nhelloXX0\r\n\r\n", "0\r\nTrailer: x\r\n\r\n", "1\r\n"]),
        (_, 3) => "{\"a\":" + new string('[', 2000) + new string(']', 2000) + "}",
        (_, 4) => "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        _ => FuzzText.AnyString(random, 200),
    };

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];
}

/// <summary>A request's bytes, and whether they are one whole request with nothing after it (a head ending in an empty
/// line, no body or a body framed by its <c>Content-Length</c>), which a server must answer.</summary>
public sealed record FuzzRequest(byte[] Bytes, bool Complete);
