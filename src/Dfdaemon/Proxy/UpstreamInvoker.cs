using System.Net;
using System.Net.Security;
using Dragonfly.Common.Http;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>
/// dfdaemon's one connection pool towards upstreams (YARP's shape: a long-lived <see cref="HttpMessageInvoker"/> over one
/// <see cref="SocketsHttpHandler"/>): no proxy, no redirects followed, no decompression, no cookies, TLS trust from
/// <see cref="UpstreamTlsPolicy"/>. The forwarder and the blob access check share it, so a check and the request after it can
/// reuse one connection.
/// </summary>
public sealed class UpstreamInvoker : IDisposable
{
    private readonly HttpMessageInvoker _invoker;

    public UpstreamInvoker(UpstreamTlsPolicy tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
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
        handler.SslOptions.RemoteCertificateValidationCallback = (sender, cert, chain, errors) =>
            tls.Validate(sender is HttpRequestMessage m ? m.RequestUri?.Host ?? string.Empty : TargetHost(sender), cert, chain, errors);
        _invoker = new HttpMessageInvoker(new SocketErrorHandler(handler), disposeHandler: true);
    }

    /// <summary>Sends <paramref name="request"/>; the answer comes back once its head is read (the body streams).</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _invoker.SendAsync(request, cancellationToken);

    public void Dispose() => _invoker.Dispose();

    private static string TargetHost(object sender) => sender is SslStream ssl ? ssl.TargetHostName : string.Empty;
}
