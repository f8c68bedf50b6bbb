using System.Net;
using System.Net.Sockets;
using Dragonfly.Common.Nodes;
using Dragonfly.Dfget.Engine;

namespace Dragonfly.Dfget.Tests.Engine;

public sealed class LocalIpResolverTests
{
    [Fact]
    public async Task ResolveAsync_ReachableLoopbackSupernode_ReturnsTheConnectSourceAddress()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var ip = await new LocalIpResolver(TimeProvider.System).ResolveAsync([new SupernodeAddress("127.0.0.1", port, 1)], cts.Token);

        ip.Should().Be("127.0.0.1");
    }

    [Fact]
    public async Task ResolveAsync_NoReachableSupernode_FallsBackToAnIPv4Address()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int closed;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closed = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var ip = await new LocalIpResolver(TimeProvider.System).ResolveAsync([new SupernodeAddress("127.0.0.1", closed, 1)], cts.Token);

        IPAddress.TryParse(ip, out var address).Should().BeTrue();
        address!.AddressFamily.Should().Be(AddressFamily.InterNetwork);
    }
}
