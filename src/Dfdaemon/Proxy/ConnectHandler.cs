using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Dragonfly.Common.Http1;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfdaemon.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>
/// Kestrel connection middleware for <c>CONNECT host:port</c>: peeks at the first request of a connection; anything else
/// goes on to HTTP untouched. A CONNECT to a hijacked host is answered <c>200</c>, TLS is terminated with a per-host
/// leaf certificate, and the decrypted stream is handed back to Kestrel so inner requests take the normal rule/P2P path
/// (marked with <see cref="HijackedConnectionFeature"/>). Other allowed hosts get a blind TCP tunnel (10 s dial) that honours
/// half-close (<see cref="TcpTunnel"/>). Every timeout here runs on the injected <see cref="TimeProvider"/>.
/// A <c>host:port</c> outside the policy (the port counts: the mirror's own, a hijack host's configured one) gets 403. The CONNECT head goes through the strict parser the raw-connection servers share
/// (<see cref="RequestHeadParser"/>): a target that is not <c>host:port</c>, a malformed field or a body gets 400, a head
/// over 16 KiB 431, a version other than 1.0 and 1.1 505; bytes the client sent behind the head (a TLS hello that did
/// not wait for the 200) stay on the connection for the tunnel or the handshake.
/// </summary>
public sealed partial class ConnectHandler
{
    /// <summary>How long dialling a tunnel's target, or a hijacked tunnel's TLS handshake, may take. 10 s.</summary>
    public static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a connection may take to send its first request head (a CONNECT or not). 30 s.</summary>
    public static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(30);
    private static readonly byte[] ConnectPrefix = "CONNECT "u8.ToArray();

    private readonly ProxyRouter _router;
    private readonly HijackCertificateStore? _certificates;
    private readonly DfdaemonMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ConnectHandler> _logger;

    public ConnectHandler(ProxyRouter router, DfdaemonMetrics metrics, TimeProvider time, ILogger<ConnectHandler> logger, HijackCertificateStore? certificates = null)
    {
        _router = router ?? throw new ArgumentNullException(nameof(router));
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _certificates = certificates;
    }

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(next);
        var input = connection.Transport.Input;
        // Never ConnectionClosed here: Kestrel fires it at the client's EOF, and a client may send its CONNECT, its request and
        // its EOF in one go (printf ... | nc -N). A client that is really gone ends the reads (input complete or reset).
        var stopping = Stopping(connection);
        using var headerTimer = new CancellationTokenSource(HeaderTimeout, _time);
        using var headerCts = CancellationTokenSource.CreateLinkedTokenSource(stopping, headerTimer.Token);

        ReadResult read;
        ReadOnlySequence<byte> buffer;
        try
        {
            // Peek until we can tell whether this is a CONNECT.
            while (true)
            {
                read = await input.ReadAsync(headerCts.Token).ConfigureAwait(false);
                buffer = read.Buffer;
                if (buffer.Length >= ConnectPrefix.Length || read.IsCompleted || !StartsWithPrefix(buffer, partialOk: true))
                {
                    break;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Timed out, or the client went away (a reset is an IOException): nothing to answer.
            return;
        }

        input.AdvanceTo(buffer.Start);
        if (!StartsWithPrefix(buffer, partialOk: false))
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        // The whole CONNECT head, through the strict parser the raw-connection servers share, within what is left of the
        // head's time.
        var reader = new RequestHeadReader(input, HeaderTimeout, HeaderTimeout, acceptConnect: true, _time);
        HeadParse? received;
        try
        {
            received = await reader.ReadAsync(headerCts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            return;
        }

        if (received is not { } parse)
        {
            return;
        }

        reader.Consume();
        if (parse.Head?.Authority is not { } authority)
        {
            Log.ConnectRejected(_logger, parse.Error ?? "not a CONNECT");
            var status = parse.Status == HeadParseStatus.Invalid ? parse.ErrorStatus : 400;
            await WriteStatusAsync(connection, $"{status} {ResponseHead.Reason(status)}", stopping).ConfigureAwait(false);
            return;
        }

        var (host, port) = authority;
        if (!_router.AllowConnect(host, port))
        {
            _metrics.RequestDenied();
            Log.ConnectDenied(_logger, host, port);
            await WriteStatusAsync(connection, "403 Forbidden", stopping).ConfigureAwait(false);
            return;
        }

        if (_certificates is not null && _router.ShouldHijack(host, port))
        {
            await HijackAsync(connection, next, host, port).ConfigureAwait(false);
        }
        else
        {
            await TunnelAsync(connection, host, port, stopping).ConfigureAwait(false);
        }
    }

    private static bool StartsWithPrefix(ReadOnlySequence<byte> buffer, bool partialOk)
    {
        var n = (int)Math.Min(buffer.Length, ConnectPrefix.Length);
        if (!partialOk && n < ConnectPrefix.Length)
        {
            return false;
        }

        Span<byte> first = stackalloc byte[ConnectPrefix.Length];
        buffer.Slice(0, n).CopyTo(first);
        return first[..n].SequenceEqual(ConnectPrefix.AsSpan(0, n));
    }

    private static async Task WriteStatusAsync(ConnectionContext connection, string status, CancellationToken cancellationToken)
    {
        var text = status.StartsWith("200", StringComparison.Ordinal)
            ? "HTTP/1.1 " + status + "\r\n\r\n"
            : "HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        try
        {
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>dfdaemon is stopping: Kestrel asks its connections to close.</summary>
    private static CancellationToken Stopping(ConnectionContext connection) =>
        connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;

    private async Task TunnelAsync(ConnectionContext connection, string host, int port, CancellationToken stopping)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using (socket)
        {
            using (var dialTimer = new CancellationTokenSource(DialTimeout, _time))
            using (var dial = CancellationTokenSource.CreateLinkedTokenSource(stopping, dialTimer.Token))
            {
                try
                {
                    await socket.ConnectAsync(host, port, dial.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    Log.DialFailed(_logger, host, port, e.Message);
                    await WriteStatusAsync(connection, "502 Bad Gateway", stopping).ConfigureAwait(false);
                    return;
                }
            }

            _metrics.TunnelOpened();
            Log.Tunnel(_logger, host, port);
            await WriteStatusAsync(connection, "200 OK", stopping).ConfigureAwait(false);

            // The client's EOF (ConnectionClosed) is a half-close the upstream's answer outlives: see TcpTunnel.
            using var tunnel = new TcpTunnel(connection.Transport, socket, _time);
            var end = await tunnel.RunAsync(stopping).ConfigureAwait(false);
            Log.TunnelEnded(_logger, host, port, end);
        }
    }

    private async Task HijackAsync(ConnectionContext connection, ConnectionDelegate next, string host, int port)
    {
        var certificate = _certificates!.For(host);
        await WriteStatusAsync(connection, "200 OK", connection.ConnectionClosed).ConfigureAwait(false);
        var original = connection.Transport;
        var ssl = new SslStream(new DuplexPipeStream(original), leaveInnerStreamOpen: false);
        await using (ssl.ConfigureAwait(false))
        {
            try
            {
                using var handshakeTimer = new CancellationTokenSource(DialTimeout, _time);
                using var handshake = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, handshakeTimer.Token);
                await ssl.AuthenticateAsServerAsync(
                    new SslServerAuthenticationOptions
                    {
                        ServerCertificateContext = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true),
                        ApplicationProtocols = [SslApplicationProtocol.Http11],
                    },
                    handshake.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
            {
                Log.HandshakeFailed(_logger, host, e.Message);
                return;
            }

            _metrics.ConnectionHijacked();
            Log.Hijacked(_logger, host, port);
            var decrypted = new SslDuplexPipe(ssl);
            connection.Transport = decrypted;
            connection.Features.Set(new HijackedConnectionFeature(host, port));
            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                await decrypted.CompleteAsync().ConfigureAwait(false);
                connection.Transport = original;
            }
        }
    }

    /// <summary>Pipes over a TLS stream, the shape Kestrel's own HTTPS middleware gives its HTTP layer.</summary>
    private sealed class SslDuplexPipe : IDuplexPipe
    {
        public SslDuplexPipe(Stream stream)
        {
            Input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
            Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        }

        public PipeReader Input { get; }

        public PipeWriter Output { get; }

        public async Task CompleteAsync()
        {
            await Input.CompleteAsync().ConfigureAwait(false);
            await Output.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 40, Level = LogLevel.Debug, Message = "CONNECT {Host}:{Port}: tunnel")]
        public static partial void Tunnel(ILogger logger, string host, int port);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 41, Level = LogLevel.Debug, Message = "CONNECT {Host}:{Port}: intercepted")]
        public static partial void Hijacked(ILogger logger, string host, int port);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 42, Level = LogLevel.Information, Message = "CONNECT {Host}:{Port} refused by policy")]
        public static partial void ConnectDenied(ILogger logger, string host, int port);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 43, Level = LogLevel.Warning, Message = "CONNECT {Host}:{Port}: dial failed: {Error}")]
        public static partial void DialFailed(ILogger logger, string host, int port, string error);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 44, Level = LogLevel.Information, Message = "TLS handshake for {Host} failed: {Error}")]
        public static partial void HandshakeFailed(ILogger logger, string host, string error);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 45, Level = LogLevel.Information, Message = "CONNECT rejected: {Error}")]
        public static partial void ConnectRejected(ILogger logger, string error);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 46, Level = LogLevel.Debug, Message = "CONNECT {Host}:{Port}: tunnel ended ({End})")]
        public static partial void TunnelEnded(ILogger logger, string host, int port, TunnelEnd end);
    }
}
