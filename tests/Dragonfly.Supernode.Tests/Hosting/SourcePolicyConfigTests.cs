using Dragonfly.Supernode.Hosting;

namespace Dragonfly.Supernode.Tests.Hosting;

/// <summary>The <c>sourceAllow</c>/<c>sourceDeny</c> keys of <c>supernode.yml</c>.</summary>
public sealed class SourcePolicyConfigTests
{
    [Fact]
    public void Apply_BlockAndFlowSequences_ParsedAsNetworks()
    {
        const string Yaml = """
            base:
              sourceDeny:
                - 169.254.0.0/16
                - fe80::/10
                - "::ffff:127.0.0.0/104"
              SOURCEALLOW: [10.0.0.0/8, "fd00::/8", 192.168.1.10]
            """;

        var options = SupernodeConfigFile.Apply(new SupernodeOptions(), Yaml, "test.yml");

        options.SourceDeny.Select(n => n.ToString()).Should().Equal("169.254.0.0/16", "fe80::/10", "127.0.0.0/8");
        options.SourceAllow.Select(n => n.ToString()).Should().Equal("10.0.0.0/8", "fd00::/8", "192.168.1.10/32");
    }

    [Theory]
    [InlineData("sourceDeny: 169.254.0.0/16, 127.0.0.0/8", 2)]
    [InlineData("sourceDeny: 169.254.0.0/16 127.0.0.0/8", 2)]
    [InlineData("sourceDeny: \"\"", 0)]
    [InlineData("sourceDeny:", 0)]
    [InlineData("sourceDeny: []", 0)]
    public void Apply_OneValue_SplitByCommasOrSpaces(string line, int count)
    {
        var options = SupernodeConfigFile.Apply(new SupernodeOptions(), $"base:\n  {line}\n", "test.yml");

        options.SourceDeny.Should().HaveCount(count);
    }

    [Theory]
    [InlineData("sourceDeny: [169.254.0.0/16, 10.1.2.3/8]", "config test.yml: base.sourceDeny: '10.1.2.3/8' has bits set beyond its /8 prefix (did you mean 10.0.0.0/8?)")]
    [InlineData("sourceAllow: [metadata.internal]", "config test.yml: base.sourceAllow: 'metadata.internal' is not an IP address or network")]
    [InlineData("sourceAllow: 10.0.0.0/40", "config test.yml: base.sourceAllow: '10.0.0.0/40' has an invalid prefix length (0 to 32 for an IPv4 network)")]
    [InlineData("sourceDeny: {a: 1}", "config test.yml: base.sourceDeny: must be a list of networks")]
    [InlineData("sourceDeny: [[127.0.0.0/8]]", "config test.yml: base.sourceDeny: each entry must be a single network")]
    public void Apply_InvalidNetwork_FailsWithTheKeyAndTheEntry(string line, string expected)
    {
        var act = () => SupernodeConfigFile.Apply(new SupernodeOptions(), $"base:\n  {line}\n", "test.yml");

        act.Should().Throw<SupernodeConfigurationException>().Which.Message.Should().StartWith(expected);
    }

    [Fact]
    public void Parse_InvalidNetworkInTheConfigFile_ConfigExitCodeWithOneLine()
    {
        var stderr = new StringWriter();

        var result = SupernodeCommandLine.Parse(
            ["--config", "/etc/dragonfly/supernode.yml"], new StringWriter(), stderr, _ => true, _ => "base:\n  sourceDeny: [169.254.0.0/33]\n");

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        result.Options.Should().BeNull();
        stderr.ToString().Should().Be(
            "supernode: config /etc/dragonfly/supernode.yml: base.sourceDeny: '169.254.0.0/33' has an invalid prefix length (0 to 32 for an IPv4 network)" +
            Environment.NewLine);
    }

    [Fact]
    public void Render_WithNetworks_AppliesBackToTheSameLists()
    {
        var options = SupernodeConfigFile.Apply(new SupernodeOptions(), "base:\n  sourceAllow: [10.0.0.0/8, \"::/0\"]\n  sourceDeny: [\"::1\", 169.254.169.254]\n", "a.yml");

        var rendered = SupernodeConfigFile.Render(options);
        var again = SupernodeConfigFile.Apply(new SupernodeOptions(), rendered, "b.yml");

        rendered.Should().Contain("  sourceAllow: [\"10.0.0.0/8\", \"::/0\"]").And.Contain("  sourceDeny: [\"::1/128\", \"169.254.169.254/32\"]");
        again.SourceAllow.Should().Equal(options.SourceAllow);
        again.SourceDeny.Should().Equal(options.SourceDeny);
        SupernodeConfigFile.Render(new SupernodeOptions()).Should().Contain("  sourceAllow: []").And.Contain("  sourceDeny: []");
    }
}
