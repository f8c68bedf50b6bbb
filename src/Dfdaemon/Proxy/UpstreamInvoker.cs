using System.Collections.Concurrent;
using System.Net;
using Dragonfly.Common.Http;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>
/// dfdaemon's connection pools towards upstreams (YARP's shape: long-lived <see cref="HttpMessageInvoker"/>s over
/// <see cref="SocketsHttpHandler"/>s): no proxy, no redirects followed, no decompression, no cookies. TLS trust is decided by the
/// request's host and port (<see cref="UpstreamTlsPolicy"/>) before a connection exists: a certificate callback only learns the
/// host name, so each distinct <see cref="UpstreamTrust"/> gets its own pool, whose callback knows its trust. A host:port always
/// maps to the same trust, so its connections stay in one pool. The forwarder and the blob access check share them.
/// </summary>
public sealed class UpstreamInvoker : IDisposable
{
    private readonly UpstreamTlsPolicy _tls;
    private readonly ConcurrentDictionary<UpstreamTrust, Lazy<HttpMessageInvoker>> _pools = new();

    public UpstreamInvoker(UpstreamTlsPolicy tls)
    {
        _tls = tls ?? throw new ArgumentNullException(nameof(tls));
    }

    /// <summary>Sends <paramref name="request"/>; the answer comes back once its head is read (the body streams).</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var url = request.RequestUri ?? throw new ArgumentException("the request has no URL", nameof(request));
        var trust = url.Scheme == Uri.UriSchemeHttps ? _tls.TrustFor(url) : UpstreamTrust.Default;
        return _pools.GetOrAdd(trust, static t => new Lazy<HttpMessageInvoker>(() => Create(t))).Value.SendAsync(request, cancellationToken);
    }

    public void Dispose()
    {
        foreach (var pool in _pools.Values)
        {
            if (pool.IsValueCreated)
            {
                pool.Value.Dispose();
            }
        }
    }

    private static HttpMessageInvoker Create(UpstreamTrust trust)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ActivityHeadersPropagator = null,
            EnableMultipleHttp2Connections = true,
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, chain, errors) => trust.Validate(cert, chain, errors);
        return new HttpMessageInvoker(new SocketErrorHandler(handler), disposeHandler: true);
    }
}
