using Dragonfly.Common.Nodes;

namespace Dragonfly.Common.Tests.Nodes;

public class SupernodeListTests
{
    [Fact]
    public void Parse_CommaSeparatedAndRepeated_CombinesAll()
    {
        var list = SupernodeList.Parse(["a:8002,b", "c:9000=2"]);

        list.Nodes.Select(n => n.ToString()).Should().Equal("a:8002", "b:8002", "c:9000");
        list.Nodes.Select(n => n.Weight).Should().Equal(1, 1, 2);
    }

    [Fact]
    public void Parse_Weights_AreReducedByGcd()
    {
        var list = SupernodeList.Parse(["a=4,b=6", "c=10"]);
        list.Nodes.Select(n => n.Weight).Should().Equal(2, 3, 5);
    }

    [Fact]
    public void TryParse_WeightAboveTheMaximum_IsAnErrorInsteadOfAHugeExpansion()
    {
        // Coprime weights stay as they are after the GCD: 2·10⁹ entries for a client to walk.
        SupernodeList.TryParse(["a=2000000000,b=1999999999"], out _, out var error).Should().BeFalse();
        error.Should().Contain("weight").And.Contain("1000");

        SupernodeList.Parse(["a=1000,b=999"]).Expand(new Random(1)).Should().HaveCount(1999);
    }

    [Fact]
    public void Expand_RepeatsByWeightAndShufflesDeterministically()
    {
        var list = SupernodeList.Parse(["a=2,b=1"]);

        var first = list.Expand(new Random(7)).Select(n => n.Host).ToArray();
        var second = list.Expand(new Random(7)).Select(n => n.Host).ToArray();

        first.Should().HaveCount(3);
        first.Count(h => h == "a").Should().Be(2);
        first.Should().Equal(second);
    }

    [Fact]
    public void Parse_Ipv6WithPort_KeepsHost()
    {
        var list = SupernodeList.Parse(["[::1]:8002"]);
        list.Nodes[0].Host.Should().Be("::1");
        list.Nodes[0].HostPort.Should().Be("[::1]:8002");
        list.Nodes[0].BaseUri.Should().Be(new Uri("http://[::1]:8002/"));
    }

    [Theory]
    [InlineData("a:0")]
    [InlineData("a:65536")]
    [InlineData("a:port")]
    [InlineData("a=0")]
    [InlineData("a=x")]
    [InlineData(":8002")]
    [InlineData("bad host:1")]
    public void TryParse_Invalid_ReportsError(string value)
    {
        SupernodeList.TryParse([value], out _, out var error).Should().BeFalse();
        error.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void Parse_Empty_GivesEmptyList()
    {
        SupernodeList.Parse([]).Nodes.Should().BeEmpty();
    }
}
