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
/// and the proxy policy (not an open proxy unless <c>open_proxy: true</c>).
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

    /// <summary>Registry-mirror mode: a relative request to the mirror.</summary>
    public RouteDecision DecideMirror(string method, string path, string query)
    {
        var target = MirrorUrl(path, query);
        if (HttpMethodIsGet(method) && BlobPath.IsBlob(path) && !_options.RegistryMirror.Direct)
        {
            return new RouteDecision(RouteKind.P2p, target, BlobPath.Sha256Of(path));
        }

        return new RouteDecision(RouteKind.Forward, target);
    }

    /// <summary>HTTP-proxy mode: an absolute URL (or a request inside a hijacked tunnel, <paramref name="preAuthorized"/>).</summary>
    public RouteDecision DecideProxy(string method, Uri url, bool preAuthorized)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            return RouteDecision.Deny($"scheme {url.Scheme} is not proxied");
        }

        var rule = FirstMatch(url.AbsoluteUri);
        if (rule is null)
        {
            return preAuthorized || _options.OpenProxy || IsMirrorHost(url.Host)
                ? new RouteDecision(RouteKind.Forward, url)
                : RouteDecision.Deny($"no proxy rule matches {url.Host}; set open_proxy: true to forward everything");
        }

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

        var target = builder.Uri;
        if (rule.Direct || !HttpMethodIsGet(method))
        {
            return new RouteDecision(RouteKind.Forward, target);
        }

        return new RouteDecision(RouteKind.P2p, target, BlobPath.Sha256Of(target.AbsolutePath));
    }

    /// <summary>True when a CONNECT to <paramref name="host"/> is served (tunnel or hijack) under the policy.</summary>
    public bool AllowConnect(string host) =>
        _options.OpenProxy
        || IsMirrorHost(host)
        || ShouldHijack(host)
        || FirstMatch("https://" + host + "/") is not null;

    /// <summary>True when CONNECT to <paramref name="host"/> is intercepted (hijack configured and a host regex matches).</summary>
    public bool ShouldHijack(string host) => _options.HijackHttps is { } h && h.Hosts.Any(x => x.Matches(host));

    private ProxyRule? FirstMatch(string url) => _options.Proxies.FirstOrDefault(r => r.Matches(url));

    private bool IsMirrorHost(string host) => string.Equals(host, _remote.Host, StringComparison.OrdinalIgnoreCase);

    private static bool HttpMethodIsGet(string method) => string.Equals(method, "GET", StringComparison.OrdinalIgnoreCase);

    private Uri MirrorUrl(string path, string query)
    {
        var basePath = _remote.AbsolutePath.TrimEnd('/');
        var sb = new StringBuilder();
        sb.Append(_remote.GetLeftPart(UriPartial.Authority)).Append(basePath).Append(path);
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
