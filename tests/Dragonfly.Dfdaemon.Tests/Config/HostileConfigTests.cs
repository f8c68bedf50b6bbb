using System.Text;
using Dragonfly.Dfdaemon.Cli;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfdaemon.Tests.Config;

/// <summary>
/// Seeded random edits of the default <c>dfdaemon.yml</c>: each either loads or fails with a <see cref="DfdaemonConfigException"/>
/// (an exit code and one line); nothing else is thrown. A failure names the seed and the edit.
/// </summary>
public sealed class HostileConfigTests
{
    private const int Seed = 20261122;
    private const int Edits = 400;

    [Fact]
    public void Load_SeededEditsOfTheDefaultConfig_LoadOrFailWithAConfigError()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("dfdaemon.yml");
        var valid = Encoding.UTF8.GetBytes(DfdaemonConfigLoader.DefaultYaml());
        var random = new Random(Seed);
        var outcomes = new int[2];

        for (var i = 0; i < Edits; i++)
        {
            var text = RequestMutations.Mutate(random, valid, RequestMutations.YamlSpecials);
            File.WriteAllBytes(path, text);
            var what = RequestMutations.Shorten($"seed {Seed}, edit {i}:\n{Encoding.UTF8.GetString(text)}");

            try
            {
                DfdaemonConfigLoader.Load(DfdaemonCommandLine.Parse(["--config", path, "--workHome", dir.Combine("home")]), new Dictionary<string, string>(), "/home/u")
                    .Should().NotBeNull(what);
                outcomes[0]++;
            }
            catch (DfdaemonConfigException e)
            {
                e.Message.Should().NotContain("\n", what);
                outcomes[1]++;
            }
        }

        outcomes.Should().AllSatisfy(n => n.Should().BePositive("the edits reach both outcomes"));
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
        using var dir = new TempDirectory();
        var load = () => DfdaemonConfigLoader.Load(
            DfdaemonCommandLine.Parse(["--config", dir.Combine("none.yml"), "--streamMode=-1\r\nx\u001b[2J"]), new Dictionary<string, string>(), dir.Combine("user"));

        load.Should().Throw<DfdaemonConfigException>().Which.Message.Should().NotContain("\n").And.NotContain("\u001b").And.Contain("streamMode");
    }
}
