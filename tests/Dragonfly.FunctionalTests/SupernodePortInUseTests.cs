using Dragonfly.FunctionalTests.Support;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>A supernode given a port another process holds: it must say so and exit, and must not pass for started.</summary>
public class SupernodePortInUseTests
{
    [Fact]
    public async Task SecondSupernodeOnATakenPort_ExitsWithACannotListenError_AndIsNotTakenForTheFirst()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var first = swarm.Supernodes[0];
        var second = new SupernodeProcess(swarm.Dir.Combine("second"), first.Port, ProcessHost.FreeTcpPort());
        await using var host = Swarm.StartPublishedSupernode(second);

        // The first supernode answers /_ping on that port the whole time; the wait must still see the second one fail.
        var wait = () => Swarm.WaitForPingAsync(second, cts.Token);

        await wait.Should().ThrowAsync<SupernodePortTakenException>();
        host.ExitCode.Should().NotBe(0);
        host.Output.Should().Contain("cannot listen").And.Contain("address already in use");
    }
}
