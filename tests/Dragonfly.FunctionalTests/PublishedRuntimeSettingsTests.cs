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
