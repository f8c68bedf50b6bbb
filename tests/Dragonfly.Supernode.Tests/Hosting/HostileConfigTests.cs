using System.Text;
using Dragonfly.Supernode.Hosting;
using Dragonfly.TestCommon;

namespace Dragonfly.Supernode.Tests.Hosting;

/// <summary>
/// Seeded random edits of the default <c>supernode.yml</c>: each either loads or ends in the configuration exit code with
/// one line on stderr; none throws. A failure names the seed and the edit.
/// </summary>
public sealed class HostileConfigTests
{
    private const int Seed = 20261122;
    private const int Edits = 500;

    [Fact]
    public void Parse_SeededEditsOfTheDefaultConfig_LoadOrFailWithTheConfigExitCode()
    {
        var valid = Encoding.UTF8.GetBytes(SupernodeConfigFile.Render(new SupernodeOptions()));
        var random = new Random(Seed);
        var outcomes = new int[2];

        for (var i = 0; i < Edits; i++)
        {
            var text = Encoding.UTF8.GetString(RequestMutations.Mutate(random, valid, RequestMutations.YamlSpecials));
            var what = RequestMutations.Shorten($"seed {Seed}, edit {i}:\n{text}");
            var stderr = new StringWriter();

            var result = SupernodeCommandLine.Parse(["--config", "/etc/dragonfly/supernode.yml"], new StringWriter(), stderr, _ => true, _ => text);

            if (result.ExitCode == 0)
            {
                result.Options.Should().NotBeNull(what);
                outcomes[0]++;
            }
            else
            {
                result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig, what);
                result.Options.Should().BeNull(what);
                var error = stderr.ToString();
                error.Should().StartWith("supernode: ", what).And.EndWith(Environment.NewLine, what);
                error.TrimEnd().Should().NotContain("\n", $"one line ({what})");
                outcomes[1]++;
            }
        }

        outcomes.Should().AllSatisfy(n => n.Should().BePositive("the edits reach both outcomes"));
    }

    [Fact]
    public void Parse_UnclosedFlowMapping_IsAConfigErrorNotACrash()
    {
        // YamlDotNet throws InvalidOperationException, not YamlException, for this one (found by the edits above).
        var stderr = new StringWriter();

        var result = SupernodeCommandLine.Parse(["--config", "/etc/dragonfly/supernode.yml"], new StringWriter(), stderr, _ => true, _ => "base:\n  fullGCThreshold: {5GB\n  cleanRatio: 1\n");

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        stderr.ToString().Should().StartWith("supernode: config /etc/dragonfly/supernode.yml: invalid YAML");
    }

    [Fact]
    public void Parse_DeeplyNestedValue_IsAConfigErrorNotAStackOverflow()
    {
        // YamlDotNet's document model recurses once per level: 100,000 of them overflowed the stack and killed the process.
        var stderr = new StringWriter();

        var result = SupernodeCommandLine.Parse(["--config", "/etc/dragonfly/supernode.yml"], new StringWriter(), stderr, _ => true, _ => "base:\n  cdnPattern: " + new string('[', 100_000));

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        stderr.ToString().Should().StartWith("supernode: config /etc/dragonfly/supernode.yml: invalid YAML").And.Contain("nesting deeper than 64 levels");
    }

    [Fact]
    public void Parse_ValuesWithLineBreaks_TheErrorStaysOneLine()
    {
        var fromEnvironment = new StringWriter();
        var fromFile = new StringWriter();

        SupernodeCommandLine.Parse([], new StringWriter(), fromEnvironment, _ => false, _ => string.Empty, v => v == "SUPERNODE_PORT" ? "1\r\n2" : null)
            .ExitCode.Should().NotBe(0);
        SupernodeCommandLine.Parse(["--config", "/etc/dragonfly/supernode.yml"], new StringWriter(), fromFile, _ => true, _ => "base:\n  listenPort: \"1\\n2\\u001b[2J\"\n")
            .ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);

        foreach (var error in new[] { fromEnvironment.ToString(), fromFile.ToString() })
        {
            error.Should().StartWith("supernode: ").And.EndWith(Environment.NewLine);
            error.TrimEnd().Should().NotContain("\n").And.NotContain("\u001b");
        }
    }
}
