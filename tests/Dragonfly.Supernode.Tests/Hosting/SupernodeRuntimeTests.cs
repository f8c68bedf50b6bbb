using System.Net;
using Dragonfly.Supernode.Hosting;

namespace Dragonfly.Supernode.Tests.Hosting;

public sealed class SupernodeRuntimeTests
{
    [Fact]
    public void ResolveAdvertiseIp_Configured_Wins() =>
        SupernodeRuntime.ResolveAdvertiseIp("10.2.3.4", () => [IPAddress.Parse("192.168.1.1")]).Should().Be("10.2.3.4");

    [Fact]
    public void ResolveAdvertiseIp_Auto_FirstNonLoopbackIPv4()
    {
        var ip = SupernodeRuntime.ResolveAdvertiseIp(null, () => [IPAddress.Loopback, IPAddress.IPv6Any, IPAddress.Parse("192.168.7.8"), IPAddress.Parse("10.0.0.1")]);

        ip.Should().Be("192.168.7.8");
    }

    [Fact]
    public void ResolveAdvertiseIp_LoopbackOnlyHost_ClearErrorNamingTheFlag()
    {
        var act = () => SupernodeRuntime.ResolveAdvertiseIp(null, () => [IPAddress.Loopback, IPAddress.IPv6Loopback]);

        act.Should().Throw<SupernodeConfigurationException>().WithMessage("*pass --advertise-ip*");
    }

    [Fact]
    public void PortReservation_Zero_ReturnsAFreeConcretePort()
    {
        PortReservation.Resolve(0, IPAddress.Loopback).Should().BeInRange(1, 65535);
        PortReservation.Resolve(8002, IPAddress.Loopback).Should().Be(8002);
    }
}
