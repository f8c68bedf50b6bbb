using Dragonfly.Dfget.App.Commands;

namespace Dragonfly.Dfget.Tests.Cli;

public sealed class DownloadThreadPoolTests
{
    [Fact]
    public void Configure_SetsTheRuntimesSpinLimitToZero()
    {
        // The runtime reads this AppContext value when it creates the pool's first worker; in a test process that has
        // happened long before, so this checks the value handed to the runtime, not its effect (which docs/design/
        // performance.md measures on the published dfget with strace: sched_yield calls per download fall by two thirds).
        DownloadThreadPool.Configure();

        AppContext.GetData(DownloadThreadPool.SpinLimitSetting).Should().Be(0);
    }
}
