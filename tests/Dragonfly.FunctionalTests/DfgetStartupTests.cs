using Dragonfly.FunctionalTests.Support;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>The published dfget is native code (Native AOT): a download starts no JIT and loads no IL.</summary>
public class DfgetStartupTests
{
    [Fact]
    public async Task Download_RunsAsNativeCode_TheJitCompilesNothing()
    {
        // -p cdn: no uploader child, which would inherit the environment and write into the same output.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        swarm.Origin.AddFile("/small.bin", new byte[1024]);
        // A process that runs IL writes one "JIT compiled" line per method to stdout with this set (the composite ReadyToRun
        // dfget before this wrote ~450 for a 1 KiB download).
        var run = await swarm.DfgetAsync(
            "p", swarm.Origin.Url("/small.bin"), ["-p", "cdn"], cts.Token,
            environment: new Dictionary<string, string> { ["DOTNET_JitDisasmSummary"] = "1" });

        run.Succeeded.Should().BeTrue(run.ToString());
        run.Output.Should().NotContain("JIT compiled", "a native dfget has no JIT");
        var executable = new FileInfo(DragonflyBinaries.PathOf("dfget"));
        var target = executable.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? executable;
        var magic = new byte[4];
        using (var file = File.OpenRead(target.FullName))
        {
            file.ReadExactly(magic);
        }

        magic.Should().Equal([0x7F, (byte)'E', (byte)'L', (byte)'F'], "bin/dfget leads to the executable itself");
        target.Directory!.GetFiles("*.dll").Should().BeEmpty("a native dfget carries no IL assemblies");
        File.ReadAllText(Path.Combine(swarm.Home("p"), "logs", "dfclient.log")).Should().Contain("sign:", "the download still logs to its file");
    }
}
