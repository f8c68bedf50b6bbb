using System.Text;
using Dragonfly.Dfget.App.Cli;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfget.Tests.Cli;

/// <summary>
/// Seeded random edits of a <c>dfget.yml</c> and of a <c>dragonfly.conf</c>: each command line either parses into a
/// download or is invalid with a message naming the file; nothing is thrown. A failure names the seed and the edit.
/// </summary>
public sealed class HostileConfigTests : IDisposable
{
    private const int Seed = 20261122;
    private const int Edits = 400;
    private const string Yaml = "nodes:\n  - sn1:8002\n  - sn2\nlocalLimit: 5M\nminRate: 32K\ntotalLimit: 50M\nclientQueueSize: 12\nworkHome: /data/df\nlogConfig:\n  maxSize: 10\n";
    private const string Ini = "# comment\n[node]\naddress=10.0.0.1,10.0.0.2:8003\n";

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("dfget.yml", Yaml)]
    [InlineData("dragonfly.conf", Ini)]
    public void Parse_SeededEditsOfAConfigFile_DownloadOrInvalidNamingTheFile(string name, string valid)
    {
        var context = new CliContext(_temp.Path, _temp.Combine("dfget.yml"), _temp.Combine("dragonfly.conf"), () => "/home/test/.small-dragonfly");
        var random = new Random(Seed);
        var outcomes = new int[2];

        for (var i = 0; i < Edits; i++)
        {
            var text = RequestMutations.Mutate(random, Encoding.UTF8.GetBytes(valid), RequestMutations.YamlSpecials);
            File.WriteAllBytes(_temp.Combine(name), text);
            var what = RequestMutations.Shorten($"seed {Seed}, edit {i}:\n{Encoding.UTF8.GetString(text)}");

            switch (DfgetCommandLine.Parse(["-u", "http://origin.example/file"], context))
            {
                case ParsedCommand.Download:
                    outcomes[0]++;
                    break;
                case ParsedCommand.Invalid invalid:
                    invalid.Message.Should().Contain(name, what);
                    outcomes[1]++;
                    break;
                case var other:
                    throw new InvalidOperationException($"{what}\nparsed as {other}");
            }
        }

        outcomes.Should().AllSatisfy(n => n.Should().BePositive("the edits reach both outcomes"));
    }

    [Fact]
    public void Parse_UnclosedFlowMapping_IsInvalidNamingTheFileNotACrash()
    {
        // YamlDotNet throws InvalidOperationException, not YamlException, for this one (found by the supernode's edits).
        File.WriteAllText(_temp.Combine("dfget.yml"), "localLimit: {5M\nminRate: 32K\n");
        var context = new CliContext(_temp.Path, _temp.Combine("dfget.yml"), _temp.Combine("dragonfly.conf"), () => "/home/test/.small-dragonfly");

        DfgetCommandLine.Parse(["-u", "http://origin.example/file"], context).Should().BeOfType<ParsedCommand.Invalid>()
            .Which.Message.Should().Contain("dfget.yml").And.Contain("invalid YAML");
    }

    [Fact]
    public void Parse_DeeplyNestedValue_IsInvalidNamingTheFileNotAStackOverflow()
    {
        // YamlDotNet's document model recurses once per level: 100,000 of them overflowed the stack and killed dfget.
        File.WriteAllText(_temp.Combine("dfget.yml"), "nodes: " + new string('[', 100_000));

        DfgetCommandLine.Parse(["-u", "http://origin.example/file"], new CliContext(_temp.Path, _temp.Combine("dfget.yml"), _temp.Combine("dragonfly.conf"), () => "/home/test/.small-dragonfly")).Should().BeOfType<ParsedCommand.Invalid>()
            .Which.Message.Should().Contain("dfget.yml").And.Contain("nesting deeper than 64 levels");
    }

    [Fact]
    public void Parse_KeyThatIsAList_IsInvalidNamingTheFileNotACrash()
    {
        // A complex key is valid YAML; it was cast to a scalar and threw InvalidCastException out of dfget.
        File.WriteAllText(_temp.Combine("dfget.yml"), "? [a, b]\n: c\nnodes: sn1\n");

        DfgetCommandLine.Parse(["-u", "http://origin.example/file"], new CliContext(_temp.Path, _temp.Combine("dfget.yml"), _temp.Combine("dragonfly.conf"), () => "/home/test/.small-dragonfly")).Should().BeOfType<ParsedCommand.Invalid>()
            .Which.Message.Should().Contain("dfget.yml").And.Contain("a key must be a plain name");
    }
}
