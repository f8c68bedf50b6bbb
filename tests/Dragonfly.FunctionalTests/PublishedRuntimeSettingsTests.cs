using System.Text.Json;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>The runtime settings the published supernode carries in its runtimeconfig.json (its .csproj file and Directory.Build.targets). dfget is native: see DfgetStartupTests.</summary>
public class PublishedRuntimeSettingsTests
{
    [Fact]
    public void Supernode_ReJitsAtTier1AfterAThousandCallsWithoutPgo()
    {
        var settings = ReadConfigProperties("supernode");

        settings.GetProperty("System.Runtime.TieredCompilation.CallCountThreshold").GetInt32().Should().Be(1000);
        settings.GetProperty("System.Runtime.TieredPGO").GetBoolean().Should().BeFalse();
    }

    private static JsonElement ReadConfigProperties(string program)
    {
        var config = Path.Combine(Path.GetDirectoryName(DragonflyBinaries.PathOf(program))!, $"{program}.runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(config));
        return document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }
}
