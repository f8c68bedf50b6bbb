using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>How a blind tunnel ended (outcomes as values).</summary>
public enum TunnelEnd
{
    /// <summary>The upstream finished its answer (after the client's EOF, or before it); the client got every byte, then EOF.</summary>
    Closed,

    /// <summary>The client had finished sending and the upstream then sent nothing for <see cref="TcpTunnel.HalfClosedIdleTimeout"/>.</summary>
    IdleAfterHalfClose,

    /// <summary>A side reset or failed, or the client's connection was aborted: both directions were torn down.</summary>
    Broken,

    /// <summary>Stopped from outside.</summary>
    Cancelled,
}

/// <summary>
/// One blind CONNECT tunnel: bytes both ways between the client's connection (Kestrel's transport pipes) and the upstream socket,
/// with TCP half-close honoured. When the client finishes sending (EOF on its side: <c>printf req | nc -N</c>, a TLS client
/// after close_notify) the upstream gets a FIN (<see cref="SocketShutdown.Send"/>) and its answer keeps flowing back until the
/// upstream ends it; from then on the upstream must send at least one byte every <see cref="HalfClosedIdleTimeout"/>, or the
/// tunnel is closed, so a half-closed tunnel cannot live for ever. When the upstream finishes first, the client's connection is
/// closed after the last byte: Kestrel's transport cannot half-close its output, and a close-delimited answer ends there as its
/// client expects. A tunnel with both directions open has no idle bound, as in the original.
/// </summary>
public sealed class TcpTunnel : IDisposable
{
    /// <summary>How long an upstream may stay silent after the client's EOF.</summary>
    public static readonly TimeSpan HalfClosedIdleTimeout = TimeSpan.FromSeconds(60);

    private const int BufferSize = 64 * 1024;

    private readonly IDuplexPipe _client;
    private readonly Socket _upstream;
    private readonly CancellationTokenSource _idle;
    private int _clientDone;

    /// <param name="client">The client's connection, after the CONNECT head (bytes already behind it are the tunnel's).</param>
    /// <param name="upstream">The connected upstream socket; the caller owns it.</param>
    /// <param name="time">The clock of the idle bound.</param>
    public TcpTunnel(IDuplexPipe client, Socket upstream, TimeProvider time)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _upstream = upstream ?? throw new ArgumentNullException(nameof(upstream));
        ArgumentNullException.ThrowIfNull(time);
        _idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
    }

    private enum PumpEnd
    {
        Eof,
        Failed,
        Stopped,
    }

    /// <summary>Copies both ways until the tunnel ends; then the client's output is complete (Kestrel closes the connection).</summary>
    public async Task<TunnelEnd> RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _idle.Token);
        var upstream = new NetworkStream(_upstream, ownsSocket: false);
        await using (upstream.ConfigureAwait(false))
        {
            var up = ClientToUpstreamAsync(upstream, stop.Token);
            var down = UpstreamToClientAsync(upstream, stop.Token);

            // The client's EOF alone ends nothing: the upstream's answer is still coming (bounded by the idle timer the pump armed).
            // Anything else ends the tunnel: the upstream's EOF (the client's connection closes with it) or a failure.
            var first = await Task.WhenAny(up, down).ConfigureAwait(false);
            if (first != up || await up.ConfigureAwait(false) != PumpEnd.Eof)
            {
                await stop.CancelAsync().ConfigureAwait(false);
            }

            var upEnd = await up.ConfigureAwait(false);
            var downEnd = await down.ConfigureAwait(false);
            await _client.Output.CompleteAsync().ConfigureAwait(false);
            return (upEnd, downEnd) switch
            {
                (PumpEnd.Failed, _) or (_, PumpEnd.Failed) => TunnelEnd.Broken,
                (_, PumpEnd.Eof) => TunnelEnd.Closed,
                _ when _idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested => TunnelEnd.IdleAfterHalfClose,
                _ => TunnelEnd.Cancelled,
            };
        }
    }

    public void Dispose() => _idle.Dispose();

    private async Task<PumpEnd> ClientToUpstreamAsync(NetworkStream upstream, CancellationToken cancellationToken)
    {
        var input = _client.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    await WriteAsync(upstream, buffer, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    input.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted)
                {
                    // The client finished sending: from now on the upstream's answer must keep moving, then pass the EOF on.
                    Volatile.Write(ref _clientDone, 1);
                    _idle.CancelAfter(HalfClosedIdleTimeout);
                    _upstream.Shutdown(SocketShutdown.Send);
                    return PumpEnd.Eof;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return PumpEnd.Stopped;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // A reset client (ConnectionResetException), an aborted connection (ConnectionAbortedException), a failed upstream.
            return PumpEnd.Failed;
        }
    }

    /// <summary>
    /// Sends what the client's pipe holds: one segment as it is; several (Kestrel's pipe is made of 4 KiB blocks) gathered
    /// into one pooled buffer of up to <see cref="BufferSize"/> per send, so a fast client costs one send per buffer, not one
    /// per block.
    /// </summary>
    internal static async ValueTask WriteAsync(Stream upstream, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsSingleSegment)
        {
            await upstream.WriteAsync(buffer.First, cancellationToken).ConfigureAwait(false);
            return;
        }

        var gathered = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (!buffer.IsEmpty)
            {
                var length = (int)Math.Min(buffer.Length, BufferSize);
                buffer.Slice(0, length).CopyTo(gathered);
                await upstream.WriteAsync(gathered.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                buffer = buffer.Slice(length);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gathered);
        }
    }

    private async Task<PumpEnd> UpstreamToClientAsync(NetworkStream upstream, CancellationToken cancellationToken)
    {
        var output = _client.Output;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var n = await upstream.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return PumpEnd.Eof;
                }

                if (Volatile.Read(ref _clientDone) == 1)
                {
                    _idle.CancelAfter(HalfClosedIdleTimeout); // the answer is moving
                }

                var flush = await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    return PumpEnd.Failed; // the client's connection is gone
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return PumpEnd.Stopped;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            return PumpEnd.Failed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
