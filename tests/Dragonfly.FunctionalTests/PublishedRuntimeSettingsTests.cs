using System.Text.Json;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>The runtime settings the published programs carry in their runtimeconfig.json (their .csproj files and Directory.Build.targets).</summary>
public class PublishedRuntimeSettingsTests
{
    [Fact]
    public void Dfget_PutsOffTier1JitWithoutPgo()
    {
        var settings = ReadConfigProperties("dfget");

        settings.GetProperty("System.Runtime.TieredCompilation.CallCountThreshold").GetInt32().Should().Be(65535);
        settings.GetProperty("System.Runtime.TieredPGO").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public void Supernode_ReJitsAtTier1AfterAThousandCallsWithoutPgo()
    {
        var settings = ReadConfigProperties("supernode");

        settings.GetProperty("System.Runtime.TieredCompilation.CallCountThreshold").GetInt32().Should().Be(1000);
        settings.GetProperty("System.Runtime.TieredPGO").GetBoolean().Should().BeFalse();
    }

    /// <summary>
    /// dfget's composite image must hold the runtime's own entry points into CoreLib: the cast, statics and generic-lookup
    /// helpers every method calls, and <c>AppContext.Setup</c>, the first managed method a process runs. Nothing in IL
    /// calls them, so crossgen2 precompiles them only when the trimmed CoreLib still carries its embedded
    /// <c>ILLink.Descriptors.xml</c>; the trimmer strips it by default. Without it they are JIT-compiled at tier 0 in
    /// every dfget process and, with tier-1 re-JIT put off, stay there.
    /// </summary>
    [Fact]
    public async Task Dfget_RunsTheRuntimesCoreLibHelpersPrecompiled()
    {
        using var temp = new TempDirectory();
        var jitLog = temp.Combine("jit.txt");
        var environment = new Dictionary<string, string> { ["DOTNET_JitStdOutFile"] = jitLog, ["DOTNET_JitDisasmSummary"] = "1" };
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));

        var (exitCode, output) = await ProcessHost.RunAsync(DragonflyBinaries.PathOf("dfget"), ["version"], cts.Token, environment: environment);

        exitCode.Should().Be(0, output);
        var compiled = File.ReadAllLines(jitLog).Where(line => line.Contains("JIT compiled ", StringComparison.Ordinal)).ToList();
        compiled.Should().NotBeEmpty("the runtime lists every method it JIT-compiles; an empty list means the log was not written");
        string[] runtimeEntryPoints = ["System.AppContext:Setup(", "System.Runtime.CompilerServices.CastHelpers:", "System.Runtime.CompilerServices.StaticsHelpers:"];
        compiled.Where(line => runtimeEntryPoints.Any(name => line.Contains(name, StringComparison.Ordinal)))
            .Should().BeEmpty("the composite image must precompile the runtime's entry points into CoreLib");
    }

    private static JsonElement ReadConfigProperties(string program)
    {
        // bin/dfget links to the executable in bin/dfget.app; each runtimeconfig.json sits beside its executable.
        var executable = new FileInfo(DragonflyBinaries.PathOf(program));
        var target = executable.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? executable;
        var config = Path.Combine(target.DirectoryName!, $"{program}.runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(config));
        return document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }
}
