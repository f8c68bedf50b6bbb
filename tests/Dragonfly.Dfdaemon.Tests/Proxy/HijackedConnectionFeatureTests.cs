using Dragonfly.Dfdaemon.Proxy;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

public class HijackedConnectionFeatureTests
{
    [Theory]
    [InlineData("/v2/x?a=1", "https://reg.example:5000/v2/x?a=1")]
    [InlineData("https://reg.example:5000/v2/x?a=1", "https://reg.example:5000/v2/x?a=1")]
    [InlineData("http://REG.example:5000/v2/x", "https://reg.example:5000/v2/x")]
    public void UrlFor_OriginFormOrSameAuthority_TheTunnelsUrl(string rawTarget, string expected) =>
        new HijackedConnectionFeature("reg.example", 5000).UrlFor(rawTarget).Should().Be(new Uri(expected));

    [Theory]
    [InlineData("http://127.0.0.1:5002/echo")]
    [InlineData("https://reg.example/v2/x")]
    [InlineData("https://reg.example:5001/v2/x")]
    [InlineData("https://other.example:5000/v2/x")]
    [InlineData("https://reg.example:5000@other.example:5000/v2/x")]
    [InlineData("ftp://reg.example:5000/x")]
    [InlineData("reg.example:5000")]
    [InlineData("*")]
    public void UrlFor_AnyOtherTarget_Null(string rawTarget) =>
        new HijackedConnectionFeature("reg.example", 5000).UrlFor(rawTarget).Should().BeNull();

    [Fact]
    public void UrlFor_Ipv6Host_Bracketed()
    {
        var feature = new HijackedConnectionFeature("::1", 443);
        feature.Authority.Should().Be("[::1]");
        feature.UrlFor("/x").Should().Be(new Uri("https://[::1]/x"));
        feature.UrlFor("https://[::1]:443/x").Should().Be(new Uri("https://[::1]/x"));
    }
}
