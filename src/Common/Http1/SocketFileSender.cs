using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Common.Http1;

/// <summary>How one send ended.</summary>
public enum SendOutcome
{
    Sent,

    /// <summary>The file ended before the range did (deleted or cut under us): the body went out short.</summary>
    FileShort,

    /// <summary>The peer reset or closed the connection, or the socket was closed.</summary>
    ConnectionLost,

    /// <summary>The peer did not take a whole chunk within the stall timeout.</summary>
    Stalled,
}

/// <summary>
/// Sends a response head and a byte range of a file on one connection's socket, the file part with the kernel's
/// <c>sendfile</c> (what <see cref="Socket.SendPacketsAsync"/> does for a file element on Linux): the bytes go from the
/// page cache to the socket without a copy through this process. The body goes in chunks (<see cref="ChunkBytes"/>
/// unless the caller paces smaller ones); a peer that does not take a whole chunk within the stall timeout is given up on, and
/// the caller closes the connection.
/// One sender per connection; sends are sequential.
/// </summary>
public sealed class SocketFileSender : IDisposable
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
    public ValueTask<(SendOutcome Outcome, long FileBytes)> SendAsync(byte[] head, SafeFileHandle? file, long offset, long count) =>
        SendAsync(head, file, offset, count, [], ChunkBytes, null);

    /// <summary>
    /// Sends <paramref name="head"/>, <paramref name="count"/> bytes of <paramref name="file"/> from
    /// <paramref name="offset"/> in chunks of at most <paramref name="chunkBytes"/>, then <paramref name="trailer"/>.
    /// <paramref name="pace"/>, when given, is awaited before each chunk with its size (a rate limit); if it throws
    /// <see cref="OperationCanceledException"/> the send ends as <see cref="SendOutcome.ConnectionLost"/>.
    /// Returns how it ended and how many bytes of the file went out.
    /// </summary>
    public async ValueTask<(SendOutcome Outcome, long FileBytes)> SendAsync(
        byte[] head, SafeFileHandle? file, long offset, long count, byte[] trailer, int chunkBytes, Func<int, ValueTask>? pace)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(trailer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkBytes);
        if (count > 0 && file is null)
        {
            throw new ArgumentException("a file is needed to send a range", nameof(file));
        }

        using var stream = file is null ? null : new FileStream(file, FileAccess.Read, 0, isAsync: true);
        var pendingHead = head;
        var sent = 0L;
        var elements = new List<SendPacketsElement>(3);
        while (true)
        {
            var chunk = (int)Math.Min(chunkBytes, count - sent);
            var last = sent + chunk >= count;
            var tail = last ? trailer : [];

            // A file already shorter than the rest of the range (deleted or cut under us): send what it has, no trailer,
            // and report it, so the caller ends the connection before the declared length.
            var available = chunk > 0 ? RandomAccess.GetLength(file!) - (offset + sent) : 0;
            var fileShort = available < chunk;
            if (fileShort)
            {
                chunk = (int)Math.Max(0, available);
                tail = [];
            }

            if (chunk > 0 && pace is not null)
            {
                try
                {
                    await pace(chunk);
                }
                catch (OperationCanceledException)
                {
                    return (SendOutcome.ConnectionLost, sent);
                }
            }

            elements.Clear();
            if (pendingHead.Length > 0)
            {
                elements.Add(new SendPacketsElement(pendingHead));
            }

            if (chunk > 0)
            {
                elements.Add(new SendPacketsElement(stream!, offset + sent, chunk));
            }

            if (tail.Length > 0)
            {
                elements.Add(new SendPacketsElement(tail));
            }

            if (elements.Count == 0)
            {
                return (fileShort ? SendOutcome.FileShort : SendOutcome.Sent, sent);
            }

            var expected = pendingHead.Length + chunk + tail.Length;
            var (error, transferred) = await RunAsync([.. elements]);
            var body = sent + Math.Clamp(transferred - pendingHead.Length, 0, chunk);
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
            if (fileShort)
            {
                return (SendOutcome.FileShort, sent);
            }

            if (last)
            {
                return (SendOutcome.Sent, sent);
            }
        }
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
