using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Dragonfly.Common.Nodes;

namespace Dragonfly.Dfget.Engine;

/// <summary>Finds the local IP a download advertises.</summary>
public interface ILocalIpResolver
{
    /// <summary>The source address of a TCP connect to the first reachable supernode (1 s each), else the first non-loopback IPv4, else 127.0.0.1.</summary>
    Task<string> ResolveAsync(IReadOnlyList<SupernodeAddress> nodes, CancellationToken cancellationToken);
}

/// <inheritdoc />
public sealed class LocalIpResolver(TimeProvider timeProvider) : ILocalIpResolver
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    public async Task<string> ResolveAsync(IReadOnlyList<SupernodeAddress> nodes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        foreach (var node in nodes.DistinctBy(n => n.HostPort))
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            using var timeout = new CancellationTokenSource(ConnectTimeout, timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                await socket.ConnectAsync(node.Host, node.Port, linked.Token).ConfigureAwait(false);
                if (socket.LocalEndPoint is IPEndPoint local)
                {
                    var address = local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address;
                    return address.ToString();
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
            catch (SocketException)
            {
            }
        }

        return FirstNonLoopbackIPv4() ?? "127.0.0.1";
    }

    private static string? FirstNonLoopbackIPv4()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
                ?.ToString();
        }
        catch (NetworkInformationException)
        {
            return null;
        }
    }
}
