using System.Text;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Registry;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>What to do with one request.</summary>
public enum RouteKind
{
    /// <summary>Refused by the proxy policy (403).</summary>
    Deny,

    /// <summary>Forward to <see cref="RouteDecision.Target"/> directly.</summary>
    Forward,

    /// <summary>Download <see cref="RouteDecision.Target"/> through P2P (falling back to Forward before the first byte).</summary>
    P2p,
}

public sealed record RouteDecision(RouteKind Kind, Uri? Target, string? Sha256 = null, string? Reason = null)
{
    public static RouteDecision Deny(string reason) => new(RouteKind.Deny, null, null, reason);
}

/// <summary>
/// The routing rules, pure (no IO): registry-mirror mode for relative requests, <c>proxies</c> rules for absolute-URI requests
/// (first match wins; <c>use_https</c> rewrites the scheme, <c>redirect</c> the host, <c>direct</c> means no P2P, only GETs use P2P),
/// and the host policy. The policy is separate from the rules: a rule only chooses P2P or direct for a URL (its regex sees the whole
/// URL, query included, so it proves nothing about the host). A host may be reached when <c>open_proxy: true</c>, or when its
/// host <em>and port</em> are the mirror's or a hijack host's; a <c>redirect</c> target is the rule's own, named by the config.
/// </summary>
public sealed class ProxyRouter
{
    private readonly DfdaemonOptions _options;
    private readonly Uri _remote;

    public ProxyRouter(DfdaemonOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _remote = options.RegistryMirror.Remote;
    }

    /// <summary>
    /// Registry-mirror mode: a relative request to the mirror. <paramref name="rawTarget"/> is the origin-form target as the client
    /// sent it (path and query still percent-encoded): it reaches the upstream unchanged, never decoded on the way.
    /// </summary>
    public RouteDecision DecideMirror(string method, string rawTarget)
    {
        ArgumentNullException.ThrowIfNull(rawTarget);
        var q = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var rawPath = q < 0 ? rawTarget : rawTarget[..q];
        var query = q < 0 ? string.Empty : rawTarget[(q + 1)..];
        var target = MirrorUrl(rawPath, query);

        // Which blob, and whether it is one, as the registry reads the path: decoded.
        var path = Uri.UnescapeDataString(rawPath);
        if (HttpMethodIsGet(method) && BlobPath.IsBlob(path) && !_options.RegistryMirror.Direct)
        {
            return new RouteDecision(RouteKind.P2p, target, BlobPath.Sha256Of(path));
        }

        return new RouteDecision(RouteKind.Forward, target);
    }

    /// <summary>HTTP-proxy mode: an absolute URL, or a request inside a hijacked tunnel (whose URL names the hijacked host:port).</summary>
    public RouteDecision DecideProxy(string method, Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            return RouteDecision.Deny($"scheme {url.Scheme} is not proxied");
        }

        // RFC 9110 §4.2.4: userinfo in an http(s) URI is an error. It is also what .NET's UriBuilder cannot always
        // rebuild ("http://:%@host/" parses, and rewriting it threw), so the request is refused, never forwarded.
        if (url.UserInfo.Length > 0)
        {
            return RouteDecision.Deny("a URL with user information is not proxied");
        }

        var rule = FirstMatch(url.AbsoluteUri);
        var target = rule is null ? url : Rewrite(url, rule);
        if (rule?.Redirect is null && !MayReach(target.Host, target.Port))
        {
            return RouteDecision.Deny($"{target.Authority} is neither the mirror nor a hijack host; set open_proxy: true to forward everything");
        }

        if (rule is null || rule.Direct || !HttpMethodIsGet(method))
        {
            return new RouteDecision(RouteKind.Forward, target);
        }

        return new RouteDecision(RouteKind.P2p, target, BlobPath.Sha256Of(target.AbsolutePath));
    }

    /// <summary>True when a CONNECT to <paramref name="host"/>:<paramref name="port"/> is served (tunnel or hijack) under the policy.</summary>
    public bool AllowConnect(string host, int port) => MayReach(host, port);

    /// <summary>True when CONNECT to <paramref name="host"/>:<paramref name="port"/> is intercepted (hijack configured, a host regex matches, its port is this one).</summary>
    public bool ShouldHijack(string host, int port) => _options.HijackHttps is { } h && h.Hosts.Any(x => x.Matches(host, port));

    /// <summary>The host policy: open proxy, or the mirror's host and port, or a hijack host on its port.</summary>
    private bool MayReach(string host, int port) => _options.OpenProxy || IsMirror(host, port) || ShouldHijack(host, port);

    private bool IsMirror(string host, int port) =>
        port == _remote.Port && string.Equals(WithoutBrackets(host), WithoutBrackets(_remote.Host), StringComparison.OrdinalIgnoreCase);

    private static string WithoutBrackets(string host) => host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;

    private static Uri Rewrite(Uri url, ProxyRule rule)
    {
        var builder = new UriBuilder(url);
        if (rule.UseHttps && builder.Scheme == Uri.UriSchemeHttp)
        {
            builder.Scheme = Uri.UriSchemeHttps;
            if (url.IsDefaultPort)
            {
                builder.Port = -1;
            }
        }

        if (rule.Redirect is { } redirect)
        {
            var colon = redirect.LastIndexOf(':');
            if (colon > 0 && int.TryParse(redirect.AsSpan(colon + 1), out var port))
            {
                builder.Host = redirect[..colon];
                builder.Port = port;
            }
            else
            {
                builder.Host = redirect;
                builder.Port = -1;
            }
        }

        return builder.Uri;
    }

    private ProxyRule? FirstMatch(string url) => _options.Proxies.FirstOrDefault(r => r.Matches(url));

    private static bool HttpMethodIsGet(string method) => string.Equals(method, "GET", StringComparison.OrdinalIgnoreCase);

    private Uri MirrorUrl(string rawPath, string query)
    {
        var basePath = _remote.AbsolutePath.TrimEnd('/');
        var sb = new StringBuilder();
        sb.Append(_remote.GetLeftPart(UriPartial.Authority)).Append(basePath).Append(rawPath);
        var q = StripNamespace(query);
        if (q.Length > 0)
        {
            sb.Append('?').Append(q);
        }

        return new Uri(sb.ToString());
    }

    /// <summary>Drops containerd's <c>ns=&lt;host&gt;</c> mirror hint (meaningless upstream, and it would split P2P task ids).</summary>
    internal static string StripNamespace(string query)
    {
        var q = query.StartsWith('?') ? query[1..] : query;
        if (q.Length == 0)
        {
            return string.Empty;
        }

        var kept = q.Split('&').Where(p => p.Length > 0 && !p.StartsWith("ns=", StringComparison.Ordinal) && p != "ns");
        return string.Join('&', kept);
    }
}
