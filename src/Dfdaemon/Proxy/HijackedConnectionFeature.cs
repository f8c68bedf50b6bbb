namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>
/// Set on a connection whose CONNECT tunnel dfdaemon intercepted: inner requests are for <c>https://Authority</c>, and for
/// nothing else. The tunnel was allowed for this host and port only, so a request inside it never names its own destination.
/// </summary>
public sealed record HijackedConnectionFeature(string Host, int Port)
{
    public string Authority =>
        (Host.Contains(':', StringComparison.Ordinal) ? "[" + Host + "]" : Host)
        + (Port == 443 ? string.Empty : ":" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// The URL a request inside the tunnel is for. An origin-form target (<c>/path?query</c>) is resolved against
    /// <c>https://Authority</c>. An absolute-form target is accepted (RFC 9112 §3.2.2) only when it names this same host and
    /// port, and is then the same URL; one naming any other authority, or any other target form, gives null (answered 400).
    /// </summary>
    public Uri? UrlFor(string rawTarget)
    {
        ArgumentNullException.ThrowIfNull(rawTarget);
        if (rawTarget.StartsWith('/'))
        {
            return Uri.TryCreate("https://" + Authority + rawTarget, UriKind.Absolute, out var relative) ? relative : null;
        }

        if (!Uri.TryCreate(rawTarget, UriKind.Absolute, out var absolute)
            || (absolute.Scheme != Uri.UriSchemeHttp && absolute.Scheme != Uri.UriSchemeHttps)
            || absolute.Port != Port
            || !string.Equals(absolute.IdnHost.Trim('[', ']'), Host, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return Uri.TryCreate("https://" + Authority + absolute.PathAndQuery, UriKind.Absolute, out var same) ? same : null;
    }
}
