using Dragonfly.Supernode.Hosting;

namespace Dragonfly.Supernode.Tests.Hosting;

/// <summary>The shipped docs/config/supernode.yml is a valid configuration equal to the defaults.</summary>
public sealed class ConfigExampleTests
{
    [Fact]
    public void DocsExample_Parses_ToDefaults()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Dragonfly.sln")))
        {
            dir = dir.Parent;
        }

        var file = dir is null ? Path.Combine("/work/main", "docs", "config", "supernode.yml") : Path.Combine(dir.FullName, "docs", "config", "supernode.yml");
        File.Exists(file).Should().BeTrue(file);

        var options = SupernodeConfigFile.Apply(new SupernodeOptions(), File.ReadAllText(file), file);

        options.Should().BeEquivalentTo(new SupernodeOptions());
        options.ValidationErrors().Should().BeEmpty();
    }
}
