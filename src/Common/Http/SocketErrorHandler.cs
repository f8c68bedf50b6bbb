using System.Net.Sockets;

namespace Dragonfly.Common.Http;

/// <summary>
/// Keeps HttpClient's contract that a failed connection surfaces as an <see cref="HttpRequestException"/>.
/// SocketsHttpHandler reads the socket's remote endpoint just after connecting; when the other side has already reset
/// the connection (a supernode or peer killed mid-accept) that throws a bare <see cref="SocketException"/> (107,
/// "Transport endpoint is not connected"), which every failure filter written for HttpRequestException misses and which
/// aborted dfget. Every SocketsHttpHandler of the three programs is wrapped in this one.
/// </summary>
public sealed class SocketErrorHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw Wrap(e);
        }
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return base.Send(request, cancellationToken);
        }
        catch (SocketException e)
        {
            throw Wrap(e);
        }
    }

    private static HttpRequestException Wrap(SocketException e) => new(HttpRequestError.ConnectionError, e.Message, e);
}
