using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dragonfly.TestCommon;

/// <summary>
/// A client that sends one request and then stops reading, to check that a server gives up on a body nobody takes:
/// its receive buffer is tiny, so only what the kernel's buffers hold leaves the server before the stall.
/// </summary>
public static class StalledReader
{
    /// <summary>
    /// Connects, sends <paramref name="request"/>, reads nothing for <paramref name="pause"/>, then reads until the server
    /// closes the connection; returns the bytes that arrived in all.
    /// </summary>
    public static async Task<long> SendAndStallAsync(int port, string request, TimeSpan pause, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        await using var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        await Task.Delay(pause, cancellationToken);
        long received = 0;
        var buffer = new byte[1024 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                received += read;
            }
        }
        catch (IOException)
        {
            // A reset instead of a FIN ends the body just the same.
        }

        return received;
    }
}
