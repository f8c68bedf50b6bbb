using System.Net;
using System.Net.Sockets;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// Picks the port a new uploader is told to bind (<c>dfget server --port</c>), so the download can register with it while
/// the uploader is still starting: the first of the candidates (<see cref="UploaderOptions.CandidatePorts"/>, the ports
/// the uploader itself would try) that can be bound right now. Another process may still take it before the uploader
/// does; the launch then reports the uploader as not serving and the download starts one the waiting way. Used where
/// <see cref="UploaderPortReservation"/> cannot hand the uploader a listening socket (off Linux).
/// </summary>
public static class UploaderPortProbe
{
    /// <summary>The first bindable candidate on <paramref name="bindIp"/>, or 0 when none is (or the IP is not an address).</summary>
    public static int FirstBindable(string bindIp, IEnumerable<int> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (!IPAddress.TryParse(bindIp, out var address))
        {
            return 0;
        }

        using var socket = BindFirst(address, candidates);
        return socket?.LocalEndPoint is IPEndPoint bound ? bound.Port : 0;
    }

    /// <summary>A TCP socket bound on <paramref name="address"/> at the first candidate that can be bound, or null.</summary>
    internal static Socket? BindFirst(IPAddress address, IEnumerable<int> candidates)
    {
        foreach (var port in candidates)
        {
            if (TryBind(address, port) is { } socket)
            {
                return socket;
            }
        }

        return null;
    }

    /// <summary>A TCP socket bound on <paramref name="address"/>:<paramref name="port"/>, or null when it cannot be bound.</summary>
    internal static Socket? TryBind(IPAddress address, int port)
    {
        if (port is <= 0 or > IPEndPoint.MaxPort)
        {
            return null;
        }

        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }
}
