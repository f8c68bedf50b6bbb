using System.Net;
using Dragonfly.Supernode.Admin;

namespace Dragonfly.Supernode.Tests.Admin;

public sealed class ClientAddressTests
{
    [Theory]
    [InlineData("192.0.2.7", "192.0.2.7")]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("fe80::1%3", "fe80::/64")]
    public void Of_Address_CountedAsItselfOrItsSlash64(string remote, string expected)
    {
        ClientAddress.Of(IPAddress.Parse(remote)).ToString().Should().Be(expected);
    }

    [Fact]
    public void Of_TwoAddressesOfOneIpv6Slash64_SameClient()
    {
        ClientAddress.Of(IPAddress.Parse("2001:db8:1:2::1")).Should().Be(ClientAddress.Of(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        ClientAddress.Of(IPAddress.Parse("2001:db8:1:3::1")).Should().NotBe(ClientAddress.Of(IPAddress.Parse("2001:db8:1:2::1")));
    }

    [Fact]
    public void Of_MappedAndPlainIpv4_SameClient()
    {
        ClientAddress.Of(IPAddress.Parse("::ffff:10.1.2.3")).Should().Be(ClientAddress.Of(IPAddress.Parse("10.1.2.3")));
    }

    [Fact]
    public void Of_NoAddress_Unknown()
    {
        ClientAddress.Of(null).Should().Be(ClientAddress.Unknown);
        ClientAddress.Unknown.ToString().Should().Be("unknown");
    }
}
