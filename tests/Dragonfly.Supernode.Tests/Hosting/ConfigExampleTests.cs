using Dragonfly.Supernode.Hosting;

namespace Dragonfly.Supernode.Tests.Hosting;

/// <summary>The shipped docs/config/supernode.yml is a valid configuration equal to the defaults.</summary>
public sealed class ConfigExampleTests
{
    [Fact]
    public void DocsExample_Parses_ToDefaults()
    {
        var file = DocsExample();

        var options = SupernodeConfigFile.Apply(new SupernodeOptions(), File.ReadAllText(file), file);

        options.Should().BeEquivalentTo(new SupernodeOptions());
        options.ValidationErrors().Should().BeEmpty();
    }

    [Fact]
    public void DocsExample_ListsEveryKeyTheSupernodeReads()
    {
        var documented = KeysOf(File.ReadAllText(DocsExample()));

        var read = KeysOf(SupernodeConfigFile.Render(new SupernodeOptions()));

        documented.Should().Contain(read);
    }

    [Fact]
    public void DocsExample_CommentedSourcePolicyExamples_Parse()
    {
        var examples = File.ReadAllLines(DocsExample())
            .Where(l => l.StartsWith("  #   source", StringComparison.Ordinal))
            .Select(l => "  " + l["  #   ".Length..])
            .ToList();

        examples.Should().HaveCount(2);
        foreach (var example in examples)
        {
            var options = SupernodeConfigFile.Apply(new SupernodeOptions(), "base:\n" + example + "\n", "docs example");
            (options.SourceAllow.Count + options.SourceDeny.Count).Should().BeGreaterThan(1, example);
        }
    }

    private static List<string> KeysOf(string yaml) => yaml.Split('\n')
        .Where(l => l.StartsWith("  ", StringComparison.Ordinal) && !l.TrimStart().StartsWith('#') && l.Contains(':', StringComparison.Ordinal))
        .Select(l => l.Trim()[..l.Trim().IndexOf(':', StringComparison.Ordinal)])
        .ToList();

    private static string DocsExample()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Dragonfly.sln")))
        {
            dir = dir.Parent;
        }

        var file = dir is null ? Path.Combine("/work/main", "docs", "config", "supernode.yml") : Path.Combine(dir.FullName, "docs", "config", "supernode.yml");
        File.Exists(file).Should().BeTrue(file);
        return file;
    }
}
