using System.Text;
using Dragonfly.Supernode.Hosting;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Supernode.Tests.Hosting;

/// <summary>
/// Hostile edits of the default <c>supernode.yml</c> (<see cref="ConfigFuzz.Yaml"/>) and hostile command lines and
/// <c>SUPERNODE_*</c> variables: each either loads or ends in the usage or configuration exit code with one line on
/// stderr; none throws. A failure names the seed, the case and the input.
/// </summary>
public sealed class HostileConfigTests
{
    private static readonly string[] Flags =
    [
        "--config", "--cdn-pattern", "--port", "--download-port", "--home-dir", "--system-bandwidth", "--max-bandwidth", "--pool-size", "--profiler",
        "-D", "--debug", "--up-limit", "--down-limit", "--cdn-load-limit", "--advertise-ip", "--fail-access-interval", "--gc-initial-delay",
        "--gc-meta-interval", "--task-expire-time", "--peer-gc-delay", "--admin-token-file", "--admin-protect-reads", "--help", "--version",
    ];

    private static readonly string[] Values = ["8002", "0", "65535", "local", "source", "/tmp/sn", "20MB", "200M", "3m", "6s", "127.0.0.1", "true", "false", "4", "default"];

    [Fact]
    [Trait("Category", "Fuzz")]
    public async Task Parse_HostileEditsOfTheDefaultConfig_LoadOrFailWithTheConfigExitCode()
    {
        var valid = SupernodeConfigFile.Render(new SupernodeOptions());
        var outcomes = new int[2];

        await Fuzzer.RunAsync(500, c =>
        {
            var text = Encoding.UTF8.GetString(ConfigFuzz.Yaml(c.Random, valid));
            c.SetInput(text);
            var stderr = new StringWriter();

            var result = SupernodeCommandLine.Parse(["--config", "/etc/dragonfly/supernode.yml"], new StringWriter(), stderr, _ => true, _ => text);

            outcomes[result.ExitCode == 0 ? 0 : 1]++;
            Check(result, stderr, SupernodeCommandLine.ExitConfig);
        });

        outcomes.Should().AllSatisfy(n => n.Should().BePositive("the edits reach both outcomes"));
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public Task Parse_HostileCommandLinesAndEnvironment_RunOrAUsageOrConfigError() => Fuzzer.RunAsync(1500, c =>
    {
        var args = ConfigFuzz.Arguments(c.Random, Flags, ["run", "version", "config", "help", "default"], Values);
        var environment = new Dictionary<string, string>();
        for (var n = c.Random.Next(3); n > 0; n--)
        {
            environment["SUPERNODE_" + c.Pick(Flags).TrimStart('-').ToUpperInvariant().Replace('-', '_')] = FuzzText.Hostile(c.Random, Values, FuzzText.Specials);
        }

        var yaml = c.OneIn(3) ? Encoding.UTF8.GetString(ConfigFuzz.Yaml(c.Random, SupernodeConfigFile.Render(new SupernodeOptions()))) : string.Empty;
        c.SetInput($"{string.Join(' ', args.Select(a => $"'{a}'"))} env {string.Join(' ', environment)} yaml {yaml}");
        var stderr = new StringWriter();

        var result = SupernodeCommandLine.Parse(args, new StringWriter(), stderr, _ => yaml.Length > 0, _ => yaml, v => environment.GetValueOrDefault(v));

        Check(result, stderr, SupernodeCommandLine.ExitConfig, SupernodeCommandLine.ExitUsage);
    });

    private static void Check(SupernodeCommandLine.ParseResult result, StringWriter stderr, params int[] errorCodes)
    {
        var error = stderr.ToString();
        if (result.ExitCode == 0)
        {
            error.Should().BeEmpty();
            return;
        }

        result.ExitCode.Should().BeOneOf(errorCodes);
        result.Options.Should().BeNull();
        error.Should().StartWith("supernode: ").And.EndWith(Environment.NewLine);
        error.TrimEnd().Should().NotContain("\n", "the error is one line");
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
