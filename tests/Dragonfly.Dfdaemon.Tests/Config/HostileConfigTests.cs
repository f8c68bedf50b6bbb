using System.Text;
using Dragonfly.Dfdaemon.Cli;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.TestCommon;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Dfdaemon.Tests.Config;

/// <summary>
/// Hostile edits of the default <c>dfdaemon.yml</c> (<see cref="ConfigFuzz.Yaml"/>) and hostile command lines and
/// <c>DFDAEMON_*</c> variables: each either loads or fails with a <see cref="DfdaemonConfigException"/> (an exit code and
/// one line); nothing else is thrown. A failure names the seed, the case and the input.
/// </summary>
public sealed class HostileConfigTests : IDisposable
{
    private static readonly string[] Values = ["65001", "0", "127.0.0.1", "https://index.docker.io", "/tmp/repo", "20MB", "sn1:8002=2", "true", "4", "-f", "x"];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Category", "Fuzz")]
    public async Task Load_HostileEditsOfTheDefaultConfig_LoadOrFailWithAConfigError()
    {
        var path = _dir.Combine("dfdaemon.yml");
        var outcomes = new int[2];

        await Fuzzer.RunAsync(400, c =>
        {
            var text = ConfigFuzz.Yaml(c.Random, DfdaemonConfigLoader.DefaultYaml());
            File.WriteAllBytes(path, text);
            c.SetInput(text);
            outcomes[Load(["--config", path, "--workHome", _dir.Combine("home")], new Dictionary<string, string>()) ? 0 : 1]++;
        });

        outcomes.Should().AllSatisfy(n => n.Should().BePositive("the edits reach both outcomes"));
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public Task Load_HostileCommandLinesAndEnvironment_LoadOrFailWithAConfigError() => Fuzzer.RunAsync(1500, c =>
    {
        var flags = DfdaemonCommandLine.ValueFlags.Concat(DfdaemonCommandLine.BoolFlags).Select(f => "--" + f.Name).Append("--help").Append("-h").ToArray();
        var args = ConfigFuzz.Arguments(c.Random, flags, ["version", "gen-ca", "config", "default", "help", "gen-doc"], Values);
        var environment = new Dictionary<string, string>();
        for (var n = c.Random.Next(3); n > 0; n--)
        {
            environment[DfdaemonConfigLoader.EnvPrefix + c.Pick(flags).TrimStart('-').ToUpperInvariant()] = FuzzText.Hostile(c.Random, Values, FuzzText.Specials);
        }

        // Never the real /etc/dragonfly/dfdaemon.yml or home: a config file here, when one is named at all.
        if (!args.Any(a => a.StartsWith("--config", StringComparison.OrdinalIgnoreCase)))
        {
            args = [.. args, "--config", _dir.Combine("none.yml")];
        }

        c.SetInput($"{string.Join(' ', args.Select(a => $"'{a}'"))} env {string.Join(' ', environment)}");
        Load(args, environment);
    });

    /// <summary>True when the options load; false on a <see cref="DfdaemonConfigException"/> of one line.</summary>
    private bool Load(string[] args, Dictionary<string, string> environment)
    {
        try
        {
            var commandLine = DfdaemonCommandLine.Parse(args);
            if (commandLine.Command != DfdaemonCommand.Run)
            {
                return true;
            }

            DfdaemonConfigLoader.Load(commandLine, environment, _dir.Combine("user")).Should().NotBeNull();
            return true;
        }
        catch (DfdaemonConfigException e)
        {
            e.Message.Should().NotBeNullOrWhiteSpace().And.NotContain("\n");
            return false;
        }
    }

    [Fact]
    public void ParseYaml_UnclosedFlowMapping_IsAConfigErrorNotACrash()
    {
        // YamlDotNet's scanner throws InvalidOperationException for this one (found by the supernode's edits); its
        // deserializer, which dfdaemon uses, wraps it in a YamlException.
        var parse = () => DfdaemonConfigLoader.ParseYaml("ratelimit: {20MB\nport: 65001\n", "/etc/dragonfly/dfdaemon.yml");

        parse.Should().Throw<DfdaemonConfigException>().Which.Message.Should().StartWith("config /etc/dragonfly/dfdaemon.yml line 1: ");
    }

    [Theory]
    [InlineData("dfget_flags: ")]
    [InlineData("proxies:\n  - regx: ")]
    [InlineData("")]
    public void ParseYaml_DeeplyNestedValue_IsAConfigErrorNotAStackOverflow(string prefix)
    {
        var parse = () => DfdaemonConfigLoader.ParseYaml(prefix + new string('[', 100_000), "/etc/dragonfly/dfdaemon.yml");

        parse.Should().Throw<DfdaemonConfigException>().Which.Message.Should().StartWith("config /etc/dragonfly/dfdaemon.yml line ");
    }

    [Fact]
    public void Load_FlagValueWithALineBreak_TheMessageStaysOneLine()
    {
        var load = () => DfdaemonConfigLoader.Load(
            DfdaemonCommandLine.Parse(["--config", _dir.Combine("none.yml"), "--streamMode=-1\r\nx\u001b[2J"]), new Dictionary<string, string>(), _dir.Combine("user"));

        load.Should().Throw<DfdaemonConfigException>().Which.Message.Should().NotContain("\n").And.NotContain("\u001b").And.Contain("streamMode");
    }
}
