namespace Dragonfly.Supernode.Origin;

/// <summary>What the supernode needs to know about a source before it creates a task.</summary>
public enum OriginProbeStatus
{
    /// <summary>Reachable; <see cref="OriginProbe.ContentLength"/> may still be -1 when the source did not say.</summary>
    Ok,
    NotFound,
    AuthenticationRequired,
    Unreachable,

    /// <summary>
    /// The source address policy (<see cref="SourceAddressPolicy"/>) refused the source's address, or the address a
    /// redirect led to; nothing was sent to it.
    /// </summary>
    AddressNotAllowed,
}

/// <param name="ContentLength">Source length in bytes, or -1 when unknown.</param>
/// <param name="SupportsRange">True when the source answered <c>Range: bytes=0-0</c> with 206.</param>
public sealed record OriginProbe(OriginProbeStatus Status, long ContentLength, int HttpStatus, string? Error = null);

/// <summary>How to reach a source: the URL plus the client's headers and TLS settings (all passed through).</summary>
public sealed record OriginRequest(
    Uri Url,
    IReadOnlyDictionary<string, string> Headers,
    bool Insecure = false,
    IReadOnlyList<byte[]>? RootCAs = null);

/// <summary>
/// The supernode's HTTP client to sources (one long-lived handler per TLS setting). The CDN downloads through it,
/// the task manager probes through it.
/// </summary>
public interface IOriginClient
{
    /// <summary>The original's length probe: a GET (not HEAD), 4 s timeout, only status and Content-Length are read.</summary>
    Task<OriginProbe> ProbeAsync(OriginRequest request, CancellationToken cancellationToken);

    /// <summary>True when the source answers <c>Range: bytes=0-0</c> with 206.</summary>
    Task<bool> SupportsRangeAsync(OriginRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Sends a GET with the request's headers plus <paramref name="extraHeaders"/> (Range, If-Modified-Since, If-None-Match);
    /// the caller owns and disposes the response, whose body is streamed (ResponseHeadersRead).
    /// </summary>
    Task<HttpResponseMessage> GetAsync(OriginRequest request, IReadOnlyDictionary<string, string>? extraHeaders, CancellationToken cancellationToken);
}
