using Dragonfly.FunctionalTests.Support;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>
/// The published supernode's tier-1 policy (Directory.Build.targets, <c>Tier1CallCountThreshold</c>): a burst of requests
/// must not re-JIT everything it touched. Read from the runtime's own log of the methods it compiles.
/// </summary>
public class SupernodeJitPolicyTests
{
    [Fact]
    public async Task PublishedSupernode_AfterARequestBurst_HasCompiledNoPgoInstrumentedCodeAndLittleTier1()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var dir = new TempDirectory("supernode-jit-");
        var jitLog = dir.Combine("jit.log");
        var info = new SupernodeProcess(dir.Combine("supernode"), ProcessHost.FreeTcpPort(), ProcessHost.FreeTcpPort());
        await using var host = Swarm.StartPublishedSupernode(
            info, environment: new Dictionary<string, string> { ["DOTNET_JitStdOutFile"] = jitLog, ["DOTNET_JitDisasmSummary"] = "1" });
        await Swarm.WaitForPingAsync(info, cts.Token);

        using var http = new HttpClient();
        for (var i = 0; i < 100; i++)
        {
            (await http.GetAsync(new Uri($"http://127.0.0.1:{info.Port}/_ping"), cts.Token)).EnsureSuccessStatusCode();
        }

        // Call counting starts 100 ms after the last tier-0 activity and tier-1 compiles run in the background after it.
        await Task.Delay(TimeSpan.FromSeconds(1.5), cts.Token);
        var compiled = await ReadSharedAsync(jitLog, cts.Token);

        compiled.Should().Contain(line => line.Contains("JIT compiled", StringComparison.Ordinal), "the runtime logs what it compiles");
        compiled.Count(line => line.Contains("Instrumented", StringComparison.Ordinal))
            .Should().Be(0, "PGO instrumentation is off; with the runtime's defaults this burst compiled ~1,400 instrumented methods");
        compiled.Count(line => line.Contains("Tier1", StringComparison.Ordinal))
            .Should().BeLessThan(400, "only methods called 1,000 times reach tier 1; with the defaults (30 calls) this burst re-JITted ~1,300");
    }

    private static async Task<string[]> ReadSharedAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var text = await reader.ReadToEndAsync(cancellationToken);
        return text.Split('\n');
    }
}
