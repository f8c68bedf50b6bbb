using System.Text.Json;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>The runtime settings the published dfget carries in its runtimeconfig.json (src/Dfget/App/Dragonfly.Dfget.csproj).</summary>
public class DfgetRuntimeSettingsTests
{
    [Fact]
    public void PublishedDfget_PutsOffTier1JitWithoutPgo()
    {
        var settings = ReadConfigProperties();

        settings.GetProperty("System.Runtime.TieredCompilation.CallCountThreshold").GetInt32().Should().Be(65535);
        settings.GetProperty("System.Runtime.TieredPGO").GetBoolean().Should().BeFalse();
    }

    private static JsonElement ReadConfigProperties()
    {
        // bin/dfget links to the executable in bin/dfget.app, whose runtimeconfig.json sits beside it.
        var executable = new FileInfo(DragonflyBinaries.PathOf("dfget"));
        var target = executable.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? executable;
        var config = Path.Combine(target.DirectoryName!, "dfget.runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(config));
        return document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }
}
