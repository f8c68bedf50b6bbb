using Dragonfly.Common.Nodes;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Common.Tests.Nodes;

/// <summary>
/// Hostile <c>-n host[:port][=weight]</c> lists: an error message or nodes whose address can be used (its URI builds
/// and names the same host and port again), and an expansion by weight whose size stays small.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class SupernodeListFuzzTests
{
    private static readonly string[] Valid = ["127.0.0.1:8002", "sn1=2,sn2:8003=3", "[::1]:8002=1", "a.example.com", "10.0.0.1:8002=2,10.0.0.2=4"];

    private static readonly string[] Tokens = ["a", "sn", ".", ":", "=", ",", "[", "]", "::1", "8002", "65535", "65536", "0", "2147483647", "2000000000", "%25eth0", "@", "/", " "];

    [Fact]
    public Task TryParse_HostileNodeLists_ErrorOrUsableNodesWithABoundedExpansion() => Fuzzer.RunAsync(10_000, c =>
    {
        var values = Enumerable.Range(0, c.Random.Next(1, 4)).Select(_ => FuzzText.Hostile(c.Random, Valid, Tokens)).ToArray();
        c.SetInput(string.Join(" -n ", values));
        if (!SupernodeList.TryParse(values, out var list, out var error))
        {
            error.Should().NotBeNullOrEmpty();
            FluentActions.Invoking(() => SupernodeList.Parse(values)).Should().Throw<FormatException>();
            return;
        }

        foreach (var node in list.Nodes)
        {
            node.Port.Should().BeInRange(1, 65535);
            node.Weight.Should().BePositive();
            var uri = node.BaseUri;
            SupernodeAddress.TryParse(node.HostPort, out var again, out _).Should().BeTrue(node.HostPort);
            (again!.Host, again.Port).Should().Be((node.Host, node.Port));
            uri.Port.Should().Be(node.Port);
        }

        var expanded = list.Nodes.Sum(n => (long)n.Weight);
        expanded.Should().BeLessThanOrEqualTo(list.Nodes.Count * (long)SupernodeAddress.MaxWeight, "the list a client walks is expanded by weight in memory");
        list.Expand(c.Random).Should().HaveCount((int)expanded);
    });
}
