using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Hosting;

/// <summary>
/// Facts known only at run time, kept out of <see cref="SupernodeOptions"/>: the advertise IP actually chosen, the ports
/// Kestrel actually bound (they differ from the options when 0 is configured), and the supernode's own peer id.
/// </summary>
public sealed class SupernodeRuntime
{
    private int _apiPort;
    private int _downloadPort;
    private string? _peerId;

    public SupernodeRuntime(string advertiseIp, int apiPort, int downloadPort)
    {
        ArgumentException.ThrowIfNullOrEmpty(advertiseIp);
        AdvertiseIp = advertiseIp;
        _apiPort = apiPort;
        _downloadPort = downloadPort;
    }

    /// <summary>The IPv4 address peers use to reach the supernode; also in every supernode cid (<c>cdnnode:&lt;ip&gt;~&lt;taskId&gt;</c>).</summary>
    public string AdvertiseIp { get; }

    /// <summary>The bound API port (the configured one until the server has started).</summary>
    public int ApiPort => Volatile.Read(ref _apiPort);

    /// <summary>The bound download port (the configured one until the server has started).</summary>
    public int DownloadPort => Volatile.Read(ref _downloadPort);

    /// <summary>True once the ports were read back from the running server.</summary>
    public bool PortsBound { get; private set; }

    /// <summary>The supernode's own peer id, once it registered itself as the CDN peer.</summary>
    public PeerId? SupernodePeerId => Volatile.Read(ref _peerId) is { } id && PeerId.TryParse(id, out var peer) ? peer : null;

    public void SetBoundPorts(int apiPort, int downloadPort)
    {
        Volatile.Write(ref _apiPort, apiPort);
        Volatile.Write(ref _downloadPort, downloadPort);
        PortsBound = true;
    }

    public void SetSupernodePeerId(PeerId peerId) => Volatile.Write(ref _peerId, peerId.Value);

    /// <summary>
    /// The advertise IP: the configured one, else the first non-loopback IPv4 of an interface that is up.
    /// </summary>
    /// <exception cref="SupernodeConfigurationException">No usable address: the operator must pass <c>--advertise-ip</c>.</exception>
    public static string ResolveAdvertiseIp(string? configured, Func<IEnumerable<IPAddress>>? candidates = null)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured.Trim();
        }

        var found = (candidates ?? LocalIPv4Addresses)().FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        return found?.ToString() ?? throw new SupernodeConfigurationException(
            "no non-loopback IPv4 address found on this host; pass --advertise-ip <ip> (the address dfget clients use to reach this supernode)");
    }

    private static IEnumerable<IPAddress> LocalIPv4Addresses()
    {
        NetworkInterface[] interfaces;
        try
        {
            interfaces = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException)
        {
            yield break;
        }

        foreach (var nic in interfaces)
        {
            if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (var address in nic.GetIPProperties().UnicastAddresses)
            {
                yield return address.Address;
            }
        }
    }
}
