using System.Net;
using Dragonfly.Supernode.Origin;

namespace Dragonfly.Supernode.Tests.Origin;

public sealed class SourceAddressPolicyTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData(" 192.168.0.0/16 ", "192.168.0.0/16")]
    [InlineData("169.254.169.254", "169.254.169.254/32")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("fe80::/10", "fe80::/10")]
    [InlineData("::1", "::1/128")]
    [InlineData("::/0", "::/0")]
    [InlineData("FD00::/8", "fd00::/8")]
    [InlineData("::ffff:127.0.0.0/104", "127.0.0.0/8")]
    [InlineData("::ffff:169.254.169.254", "169.254.169.254/32")]
    public void TryParseNetwork_ValidText_ParsesAndNormalises(string text, string expected)
    {
        SourceAddressPolicy.TryParseNetwork(text, out var network, out var error).Should().BeTrue(error);

        network.ToString().Should().Be(expected);
    }

    [Theory]
    [InlineData("", "not an IP address")]
    [InlineData("localhost", "not an IP address")]
    [InlineData("10.0.0/8", "not an IP address")]
    [InlineData("127.1", "not an IP address")]
    [InlineData("010.0.0.0/8", "not an IP address")]
    [InlineData("0x7f.0.0.1", "not an IP address")]
    [InlineData("256.0.0.0/8", "not an IP address")]
    [InlineData("fe80::1%eth0", "not an IP address")]
    [InlineData("10.0.0.0/33", "prefix length (0 to 32")]
    [InlineData("fe80::/129", "prefix length (0 to 128")]
    [InlineData("10.0.0.0/", "prefix length")]
    [InlineData("10.0.0.0/-1", "prefix length")]
    [InlineData("10.0.0.0/08", "prefix length")]
    [InlineData("10.0.0.0/8/8", "prefix length")]
    [InlineData("10.1.2.3/8", "did you mean 10.0.0.0/8?")]
    [InlineData("fe80::1/10", "did you mean fe80::/10?")]
    public void TryParseNetwork_InvalidText_FailsWithAClearMessage(string text, string expected)
    {
        SourceAddressPolicy.TryParseNetwork(text, out _, out var error).Should().BeFalse();

        error.Should().Contain($"'{text}'").And.Contain(expected);
    }

    [Fact]
    public void Permits_BothListsEmpty_AllowsEverything()
    {
        var policy = SourceAddressPolicy.AllowAll;

        policy.IsUnrestricted.Should().BeTrue();
        policy.Permits(IPAddress.Parse("127.0.0.1")).Should().BeTrue();
        policy.Permits(IPAddress.Parse("169.254.169.254")).Should().BeTrue();
        policy.Permits(IPAddress.Parse("fe80::1")).Should().BeTrue();
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.255.255.254", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:169.254.169.254", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fe80::1%2", false)]
    [InlineData("10.1.2.3", true)]
    [InlineData("::ffff:10.1.2.3", true)]
    [InlineData("2001:db8::1", true)]
    public void Permits_DenyList_RefusesItsNetworksOnly(string address, bool permitted)
    {
        var policy = Policy(allow: [], deny: ["127.0.0.0/8", "169.254.0.0/16", "fe80::/10"]);

        policy.IsUnrestricted.Should().BeFalse();
        policy.Permits(IPAddress.Parse(address)).Should().Be(permitted);
    }

    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("::ffff:10.1.2.3", true)]
    [InlineData("fd12::1", true)]
    [InlineData("10.66.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("2001:db8::1", false)]
    public void Permits_AllowAndDeny_AddressMustBeAllowedAndNotDenied(string address, bool permitted)
    {
        var policy = Policy(allow: ["10.0.0.0/8", "fd00::/8"], deny: ["10.66.0.0/16"]);

        policy.Permits(IPAddress.Parse(address)).Should().Be(permitted);
    }

    [Fact]
    public void Permits_DenyWrittenAsMappedIPv6_RefusesThePlainIPv4Address()
    {
        var policy = Policy(allow: [], deny: ["::ffff:127.0.0.0/104"]);

        policy.Permits(IPAddress.Parse("127.0.0.1")).Should().BeFalse();
        policy.Permits(IPAddress.Parse("::ffff:127.0.0.1")).Should().BeFalse();
        policy.Permits(IPAddress.Parse("128.0.0.1")).Should().BeTrue();
    }

    [Fact]
    public void Permits_AllowOnlyIPv4_RefusesEveryIPv6AddressButMappedOnes()
    {
        var policy = Policy(allow: ["0.0.0.0/0"], deny: []);

        policy.Permits(IPAddress.Parse("8.8.8.8")).Should().BeTrue();
        policy.Permits(IPAddress.Parse("::ffff:8.8.8.8")).Should().BeTrue();
        policy.Permits(IPAddress.Parse("2001:4860::8888")).Should().BeFalse();
        policy.Permits(IPAddress.IPv6Loopback).Should().BeFalse();
    }

    [Fact]
    public void TryParseNetworks_OneBadEntry_FailsTheList()
    {
        SourceAddressPolicy.TryParseNetworks(["10.0.0.0/8", "nonsense"], out var networks, out var error).Should().BeFalse();

        networks.Should().BeEmpty();
        error.Should().Contain("'nonsense'");
    }

    internal static SourceAddressPolicy Policy(string[] allow, string[] deny)
    {
        SourceAddressPolicy.TryParseNetworks(allow, out var a, out var e1).Should().BeTrue(e1);
        SourceAddressPolicy.TryParseNetworks(deny, out var d, out var e2).Should().BeTrue(e2);
        return new SourceAddressPolicy(a, d);
    }
}
