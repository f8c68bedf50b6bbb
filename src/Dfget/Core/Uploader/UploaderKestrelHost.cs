using System.Net;
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
/// Kestrel bound to one address and port, running one request delegate, without the generic host: the uploader needs
/// no configuration, DI container, hosted services or hosting diagnostics, and building them cost ~25 ms of the
/// <c>dfget server</c> start-up that the first download of a work home waits for. Kestrel itself answers 500 when the
/// delegate throws before the response started.
/// </summary>
internal sealed class UploaderKestrelHost : IAsyncDisposable
{
    private readonly KestrelServer _server;
    private int _started;

    private UploaderKestrelHost(KestrelServer server) => _server = server;

    /// <summary>Binds and starts; throws <see cref="IOException"/> when the address is in use.</summary>
    public static async Task<(UploaderKestrelHost Host, int Port)> StartAsync(
        IPAddress address, int port, RequestDelegate handler, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var options = new KestrelServerOptions { AddServerHeader = false };
        options.Listen(address, port);
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggerFactory);
        var host = new UploaderKestrelHost(new KestrelServer(Options.Create(options), transport, loggerFactory));
        try
        {
            await host._server.StartAsync(new Application(handler), cancellationToken).ConfigureAwait(false);
            host._started = 1;
            return (host, host.BoundPort(port));
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
