using Dragonfly.Dfdaemon.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

public class HeaderFilterTests
{
    [Fact]
    public void ForBlob_IncomingHeaders_DropsHostAcceptEncodingAndHopByHopKeepsAuthorization()
    {
        var headers = new HeaderDictionary
        {
            ["Host"] = "127.0.0.1:65001",
            ["Accept-Encoding"] = "gzip",
            ["Authorization"] = "Bearer abc.def",
            ["Connection"] = "keep-alive, X-Private",
            ["X-Private"] = "1",
            ["Proxy-Authorization"] = "Basic eA==",
            ["User-Agent"] = "containerd/1.6",
            ["Accept"] = new StringValues(["application/a", "application/b"]),
        };

        HeaderFilter.ForBlob(headers).Should().BeEquivalentTo(
            ["Authorization: Bearer abc.def", "User-Agent: containerd/1.6", "Accept: application/a, application/b"]);
    }

    [Fact]
    public void ForUpstream_RepeatedHeader_KeepsEveryValueInOrder()
    {
        var headers = new HeaderDictionary { ["Accept"] = new StringValues(["a/1", "b/2", "c/3"]), ["Host"] = "x", ["TE"] = "trailers" };
        var forwarded = HeaderFilter.ForUpstream(headers).ToList();
        forwarded.Should().ContainSingle();
        forwarded[0].Value.ToArray().Should().Equal("a/1", "b/2", "c/3");
    }

    [Theory]
    [InlineData("Transfer-Encoding", true)]
    [InlineData("keep-alive", true)]
    [InlineData("Upgrade", true)]
    [InlineData("X-Named", true)]
    [InlineData("Authorization", false)]
    [InlineData("WWW-Authenticate", false)]
    public void IsHopByHop_Name_AlsoHonoursConnectionTokens(string name, bool expected) =>
        HeaderFilter.IsHopByHop(name, "close, X-Named").Should().Be(expected);
}
