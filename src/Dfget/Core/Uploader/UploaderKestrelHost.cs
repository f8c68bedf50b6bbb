using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// Kestrel bound to one address and port, running one request delegate behind an optional connection middleware (the
/// uploader's <see cref="PieceConnectionMiddleware"/>), without the generic host: the uploader needs
/// no configuration, DI container, hosted services or hosting diagnostics, and building them cost ~25 ms of the
/// <c>dfget server</c> start-up that the first download of a work home waits for. Kestrel itself answers 500 when the
/// delegate throws before the response started.
/// </summary>
internal sealed class UploaderKestrelHost : IAsyncDisposable
{
    private readonly KestrelServer _server;
    private readonly SafeSocketHandle? _inherited;
    private int _started;

    private UploaderKestrelHost(KestrelServer server, SafeSocketHandle? inherited)
    {
        _server = server;
        _inherited = inherited;
    }

    /// <summary>Binds and starts; throws <see cref="IOException"/> when the address is in use.</summary>
    public static Task<(UploaderKestrelHost Host, int Port)> StartAsync(
        IPAddress address, int port, Func<ConnectionDelegate, KestrelServerLimits, ConnectionDelegate>? connectionMiddleware, RequestDelegate handler, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var options = new KestrelServerOptions { AddServerHeader = false };
        options.Listen(address, port, listen => Use(listen, connectionMiddleware));
        return StartAsync(options, null, port, handler, loggerFactory, cancellationToken);
    }

    /// <summary>
    /// Starts on an inherited socket that already listens on <paramref name="port"/> (check it with
    /// <see cref="IsListeningOn"/>). The host owns it from here on and closes it when disposed: Kestrel serves a handle
    /// without taking it over (systemd socket activation's rule). The descriptor is made close-on-exec first: inherited
    /// from a launcher it is not, and a process started from here would keep the port listening after the host closed it.
    /// </summary>
    /// <exception cref="IOException">The descriptor is not open.</exception>
    public static Task<(UploaderKestrelHost Host, int Port)> StartAsync(
        int descriptor, int port, Func<ConnectionDelegate, KestrelServerLimits, ConnectionDelegate>? connectionMiddleware, RequestDelegate handler, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        SocketDescriptor.KeepFromChildren(descriptor);
        var options = new KestrelServerOptions { AddServerHeader = false };
        options.ListenHandle((ulong)descriptor, listen => Use(listen, connectionMiddleware));
        return StartAsync(options, new SafeSocketHandle((IntPtr)descriptor, ownsHandle: true), port, handler, loggerFactory, cancellationToken);
    }

    /// <summary>Whether <paramref name="descriptor"/> is a TCP socket listening on exactly <paramref name="address"/>:<paramref name="port"/>.</summary>
    public static bool IsListeningOn(int descriptor, IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        try
        {
            using var socket = new Socket(new SafeSocketHandle((IntPtr)descriptor, ownsHandle: false));
            return socket.SocketType == SocketType.Stream
                && socket.LocalEndPoint is IPEndPoint local
                && local.Port == port
                && local.Address.Equals(address)
                && (int?)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is 1;
        }
        catch (Exception e) when (e is SocketException or ArgumentException or ObjectDisposedException)
        {
            return false;
        }
    }

    private static void Use(ListenOptions listen, Func<ConnectionDelegate, KestrelServerLimits, ConnectionDelegate>? connectionMiddleware)
    {
        if (connectionMiddleware is not null)
        {
            listen.Use(next => connectionMiddleware(next, listen.KestrelServerOptions.Limits));
        }
    }

    private static async Task<(UploaderKestrelHost Host, int Port)> StartAsync(
        KestrelServerOptions options, SafeSocketHandle? inherited, int port, RequestDelegate handler, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggerFactory);
        var host = new UploaderKestrelHost(new KestrelServer(Options.Create(options), transport, loggerFactory), inherited);
        try
        {
            await host._server.StartAsync(new Application(handler), cancellationToken).ConfigureAwait(false);
            host._started = 1;
            return (host, inherited is not null ? port : host.BoundPort(port));
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 0) == 1)
        {
            await _server.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _server.Dispose();
        _inherited?.Dispose();
    }

    private int BoundPort(int requested)
    {
        var first = _server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return first is not null && Uri.TryCreate(first, UriKind.Absolute, out var uri) ? uri.Port : requested;
    }

    /// <summary>A bare <see cref="IHttpApplication{TContext}"/>: one <see cref="DefaultHttpContext"/> per request.</summary>
    private sealed class Application(RequestDelegate handler) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public Task ProcessRequestAsync(HttpContext context) => handler(context);

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }
    }
}
