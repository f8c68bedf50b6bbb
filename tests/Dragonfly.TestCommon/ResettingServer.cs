using System.Net;
using System.Net.Sockets;

namespace Dragonfly.TestCommon;

/// <summary>
/// A loopback listener that accepts every connection and resets it at once (SO_LINGER 0), as a process killed mid-accept
/// does. Now and then the reset reaches a client between its connect and its first use of the socket, where
/// SocketsHttpHandler reads the remote endpoint and throws a bare <see cref="SocketException"/> (107, "Transport endpoint
/// is not connected") instead of an <see cref="HttpRequestException"/>: about one request in a few hundred here.
/// </summary>
public sealed class ResettingServer : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();

    public ResettingServer()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>Connections accepted (and reset) so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    private int _accepted;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }
}
