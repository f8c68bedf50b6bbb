using System.Net;
using System.Net.Sockets;

namespace Dragonfly.Supernode.Hosting;

/// <summary>
/// Turns a configured port 0 ("any free port", used by tests) into a concrete free port before the host is built, so the
/// immutable manager options (the supernode's own CDN peer registration, the download-port routing) carry the real port
/// from the start. The bound ports are read back from the server after start and checked against these.
/// </summary>
public static class PortReservation
{
    public static int Resolve(int configured, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (configured != 0)
        {
            return configured;
        }

        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
