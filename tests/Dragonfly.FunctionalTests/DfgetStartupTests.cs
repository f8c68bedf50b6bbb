using Dragonfly.FunctionalTests.Support;

namespace Dragonfly.FunctionalTests;

/// <summary>What a published dfget compiles while it runs a download, read from the runtime's own log of its JIT compiles.</summary>
public class DfgetStartupTests
{
    [Fact]
    public async Task Download_CompilesNoRegexAndEmitsNoCode()
    {
        // -p cdn: no uploader child, which would inherit the environment and write its own compiles into the same log.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        swarm.Origin.AddFile("/small.bin", new byte[1024]);
        // The JIT writes its summary to stdout, mixed into dfget's output. Not to a file (DOTNET_JitStdOutFile): the JIT
        // closes that file at exit while other threads may still compile, and about one run in eight then died in
        // free() or with SIGSEGV after a successful download (0 in 80 runs without that variable, 0 in 80 with stdout).
        var run = await swarm.DfgetAsync(
            "p", swarm.Origin.Url("/small.bin"), ["-p", "cdn"], cts.Token,
            environment: new Dictionary<string, string> { ["DOTNET_JitDisasmSummary"] = "1" });

        run.Succeeded.Should().BeTrue(run.ToString());
        var compiled = run.Output.Split('\n');
        compiled.Should().Contain(line => line.Contains("JIT compiled", StringComparison.Ordinal), "the runtime logs what it compiles");
        compiled.Should().NotContain(
            line => line.Contains("RegularExpressions", StringComparison.Ordinal),
            "Serilog's rolling file sink compiled a Regex (Reflection.Emit and fully optimised JIT compiles) before every download");
        compiled.Should().NotContain(
            line => line.Contains("Emit", StringComparison.Ordinal),
            "dfget runs without runtime code generation; with it, the service container prepared to emit IL for its resolvers");
        File.ReadAllText(Path.Combine(swarm.Home("p"), "logs", "dfclient.log")).Should().Contain("sign:", "the download still logs to its file");
    }
}
