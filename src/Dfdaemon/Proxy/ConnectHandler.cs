using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Dragonfly.Common.Http1;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfdaemon.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>
/// Kestrel connection middleware for <c>CONNECT host:port</c>: peeks at the first request of a connection; anything else
/// goes on to HTTP untouched. A CONNECT to a hijacked host is answered <c>200</c>, TLS is terminated with a per-host
/// leaf certificate, and the decrypted stream is handed back to Kestrel so inner requests take the normal rule/P2P path
/// (marked with <see cref="HijackedConnectionFeature"/>). Other allowed hosts get a blind TCP tunnel (10 s dial).
/// A <c>host:port</c> outside the policy (the port counts: the mirror's own, a hijack host's configured one) gets 403. The CONNECT head goes through the strict parser the raw-connection servers share
/// (<see cref="RequestHeadParser"/>): a target that is not <c>host:port</c>, a malformed field or a body gets 400, a head
/// over 16 KiB 431, a version other than 1.0 and 1.1 505; bytes the client sent behind the head (a TLS hello that did
/// not wait for the 200) stay on the connection for the tunnel or the handshake.
/// </summary>
public sealed partial class ConnectHandler
{
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(30);
    private static readonly byte[] ConnectPrefix = "CONNECT "u8.ToArray();

    private readonly ProxyRouter _router;
    private readonly HijackCertificateStore? _certificates;
    private readonly DfdaemonMetrics _metrics;
    private readonly ILogger<ConnectHandler> _logger;

    public ConnectHandler(ProxyRouter router, DfdaemonMetrics metrics, ILogger<ConnectHandler> logger, HijackCertificateStore? certificates = null)
    {
        _router = router ?? throw new ArgumentNullException(nameof(router));
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _certificates = certificates;
    }

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(next);
        var input = connection.Transport.Input;
        using var headerCts = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        headerCts.CancelAfter(HeaderTimeout);

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
        var reader = new RequestHeadReader(input, HeaderTimeout, HeaderTimeout, acceptConnect: true);
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
            await WriteStatusAsync(connection, $"{status} {ResponseHead.Reason(status)}", connection.ConnectionClosed).ConfigureAwait(false);
            return;
        }

        var (host, port) = authority;
        if (!_router.AllowConnect(host, port))
        {
            _metrics.RequestDenied();
            Log.ConnectDenied(_logger, host, port);
            await WriteStatusAsync(connection, "403 Forbidden", connection.ConnectionClosed).ConfigureAwait(false);
            return;
        }

        if (_certificates is not null && _router.ShouldHijack(host, port))
        {
            await HijackAsync(connection, next, host, port).ConfigureAwait(false);
        }
        else
        {
            await TunnelAsync(connection, host, port).ConfigureAwait(false);
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

    private async Task TunnelAsync(ConnectionContext connection, string host, int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using (socket)
        {
            using (var dial = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
            {
                dial.CancelAfter(DialTimeout);
                try
                {
                    await socket.ConnectAsync(host, port, dial.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    Log.DialFailed(_logger, host, port, e.Message);
                    await WriteStatusAsync(connection, "502 Bad Gateway", connection.ConnectionClosed).ConfigureAwait(false);
                    return;
                }
            }

            _metrics.TunnelOpened();
            Log.Tunnel(_logger, host, port);
            await WriteStatusAsync(connection, "200 OK", connection.ConnectionClosed).ConfigureAwait(false);
            await using var upstream = new NetworkStream(socket, ownsSocket: false);
            await using var client = new DuplexPipeStream(connection.Transport);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
            var up = PumpAsync(client, upstream, () => socket.Shutdown(SocketShutdown.Send), stop.Token);
            var down = PumpAsync(upstream, client, () => connection.Transport.Output.Complete(), stop.Token);
            await Task.WhenAny(up, down).ConfigureAwait(false);

            // One side ended: give the other a moment to drain, then close both.
            await Task.WhenAny(Task.WhenAll(up, down), Task.Delay(TimeSpan.FromSeconds(5), stop.Token).ContinueWith(_ => { }, TaskScheduler.Default)).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
    }

    private static async Task PumpAsync(Stream from, Stream to, Action onEnd, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                await to.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                await to.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            try
            {
                onEnd();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
            }
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
                using var handshake = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
                handshake.CancelAfter(DialTimeout);
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
    }
}
