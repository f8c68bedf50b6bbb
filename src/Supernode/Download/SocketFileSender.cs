using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Supernode.Download;

/// <summary>How one send ended.</summary>
internal enum SendOutcome
{
    Sent,

    /// <summary>The file ended before the range did (deleted or cut under us): the body went out short.</summary>
    FileShort,

    /// <summary>The peer reset or closed the connection, or the socket was closed.</summary>
    ConnectionLost,

    /// <summary>The peer took no <see cref="SocketFileSender.ChunkBytes"/> within the stall timeout.</summary>
    Stalled,
}

/// <summary>
/// Sends a response head and a byte range of a file on one connection's socket, the file part with the kernel's
/// <c>sendfile</c> (what <see cref="Socket.SendPacketsAsync"/> does for a file element on Linux): the bytes go from the
/// page cache to the socket without a copy through this process. The body goes in chunks of <see cref="ChunkBytes"/>;
/// a peer that takes none within the stall timeout is given up on, and the caller closes the connection.
/// One sender per connection; sends are sequential.
/// </summary>
internal sealed class SocketFileSender : IDisposable
{
    public const int ChunkBytes = 1024 * 1024;

    private readonly Socket _socket;
    private readonly TimeSpan _stallTimeout;
    private readonly SocketAsyncEventArgs _args = new();
    private TaskCompletionSource<SocketError>? _completion;

    public SocketFileSender(Socket socket, TimeSpan stallTimeout)
    {
        _socket = socket;
        _stallTimeout = stallTimeout;
        _args.Completed += (_, e) => _completion!.TrySetResult(e.SocketError);
    }

    /// <summary>Sends <paramref name="head"/>, then <paramref name="count"/> bytes of <paramref name="file"/> from
    /// <paramref name="offset"/>; returns how it ended and how many bytes of the file went out.</summary>
    public async ValueTask<(SendOutcome Outcome, long BodyBytes)> SendAsync(byte[] head, SafeFileHandle? file, long offset, long count)
    {
        using var stream = file is null ? null : new FileStream(file, FileAccess.Read, 0, isAsync: true);
        var pendingHead = head;
        var sent = 0L;
        do
        {
            var chunk = (int)Math.Min(ChunkBytes, count - sent);
            SendPacketsElement[] elements = (pendingHead.Length, chunk) switch
            {
                (> 0, > 0) => [new SendPacketsElement(pendingHead), new SendPacketsElement(stream!, offset + sent, chunk)],
                (> 0, _) => [new SendPacketsElement(pendingHead)],
                _ => [new SendPacketsElement(stream!, offset + sent, chunk)],
            };
            var expected = pendingHead.Length + chunk;
            var (error, transferred) = await RunAsync(elements);
            var body = sent + Math.Max(0, transferred - pendingHead.Length);
            if (error is SocketError.TimedOut)
            {
                return (SendOutcome.Stalled, body);
            }

            if (error is not SocketError.Success)
            {
                return (SendOutcome.ConnectionLost, body);
            }

            if (transferred < expected)
            {
                return (SendOutcome.FileShort, body);
            }

            sent += chunk;
            pendingHead = [];
        }
        while (sent < count);

        return (SendOutcome.Sent, sent);
    }

    public void Dispose() => _args.Dispose();

    private async ValueTask<(SocketError Error, long Transferred)> RunAsync(SendPacketsElement[] elements)
    {
        _args.SendPacketsElements = elements;
        _completion = new TaskCompletionSource<SocketError>(TaskCreationOptions.RunContinuationsAsynchronously);
        SocketError error;
        try
        {
            if (!_socket.SendPacketsAsync(_args))
            {
                return (_args.SocketError, _args.BytesTransferred);
            }
        }
        catch (ObjectDisposedException)
        {
            return (SocketError.OperationAborted, 0);
        }

        try
        {
            error = await _completion.Task.WaitAsync(_stallTimeout);
        }
        catch (TimeoutException)
        {
            // The operation still owns _args: closing the socket completes it, and nothing reuses it after this.
            return (SocketError.TimedOut, 0);
        }

        return (error, _args.BytesTransferred);
    }
}
