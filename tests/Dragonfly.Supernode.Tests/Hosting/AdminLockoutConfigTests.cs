using Dragonfly.Supernode.Hosting;

namespace Dragonfly.Supernode.Tests.Hosting;

/// <summary>
/// The admin token's lockout settings (<c>adminMaxFailures</c>, <c>adminFailureWindow</c>, <c>adminLockout</c>): their
/// defaults, their YAML keys, and a bad value as a configuration error (exit 10).
/// </summary>
public sealed class AdminLockoutConfigTests
{
    private const string ConfigPath = "/etc/dragonfly/supernode.yml";
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);

    [Fact]
    public void Parse_NoLockoutSetting_TenWrongTokensPerMinuteLockOutForAMinute()
    {
        var options = Parse().Options!;

        options.AdminMaxFailures.Should().Be(10);
        options.AdminFailureWindow.Should().Be(TimeSpan.FromMinutes(1));
        options.AdminLockout.Should().Be(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void Parse_YamlKeys_SetTheLockout()
    {
        _files[ConfigPath] = "base:\n  adminMaxFailures: 5\n  adminFailureWindow: 10m\n  adminLockout: 1h\n";

        var options = Parse().Options!;

        options.AdminMaxFailures.Should().Be(5);
        options.AdminFailureWindow.Should().Be(TimeSpan.FromMinutes(10));
        options.AdminLockout.Should().Be(TimeSpan.FromHours(1));
    }

    [Fact]
    public void Parse_MaxFailuresZero_TurnsLockoutsOff()
    {
        _files[ConfigPath] = "base:\n  adminMaxFailures: 0\n";

        Parse().Options!.AdminMaxFailures.Should().Be(0);
    }

    [Theory]
    [InlineData("adminMaxFailures: -1", "adminMaxFailures must be between 0 (no lockout) and 100000")]
    [InlineData("adminMaxFailures: ten", "base.adminMaxFailures: 'ten' is not an integer")]
    [InlineData("adminFailureWindow: 0s", "adminFailureWindow must be between 1s and 24h")]
    [InlineData("adminFailureWindow: 25h", "adminFailureWindow must be between 1s and 24h")]
    [InlineData("adminLockout: 500ms", "adminLockout must be between 1s and 24h")]
    [InlineData("adminLockout: forever", "base.adminLockout: 'forever' is not a duration")]
    public void Parse_BadValue_ConfigError(string line, string message)
    {
        _files[ConfigPath] = $"base:\n  {line}\n";

        var result = Parse();

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().Contain(message);
    }

    [Fact]
    public void Render_ListsTheLockoutDefaults()
    {
        var yaml = SupernodeConfigFile.Render(new SupernodeOptions());

        yaml.Should().Contain("  adminMaxFailures: 10\n").And.Contain("  adminFailureWindow: 1m\n").And.Contain("  adminLockout: 1m\n");
    }

    private SupernodeCommandLine.ParseResult Parse(params string[] args) =>
        SupernodeCommandLine.Parse(args, _out, _err, _files.ContainsKey, p => _files[p]);
}
