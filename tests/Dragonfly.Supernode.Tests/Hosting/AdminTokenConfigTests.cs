using Dragonfly.Supernode.Admin;
using Dragonfly.Supernode.Hosting;
using Dragonfly.TestCommon;

namespace Dragonfly.Supernode.Tests.Hosting;

/// <summary>
/// The admin token's configuration forms: <c>base.adminTokenFile</c>, <c>--admin-token-file</c>,
/// <c>SUPERNODE_ADMIN_TOKEN_FILE</c>, <c>SUPERNODE_ADMIN_TOKEN</c> and <c>base.adminToken</c>; a bad one is a configuration
/// error (exit 10) whose message never holds the token.
/// </summary>
public sealed class AdminTokenConfigTests
{
    private const string Token = "s3cr3t-admin-token-0123456789abcdef";
    private const string OtherToken = "another-admin-token-fedcba9876543210";
    private const string ConfigPath = "/etc/dragonfly/supernode.yml";
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _env = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Exception> _unreadable = new(StringComparer.Ordinal);

    [Fact]
    public void Parse_NoTokenSetting_EveryRouteOpen()
    {
        var options = Parse().Options!;

        options.AdminToken.Should().BeNull();
        options.AdminTokenFile.Should().BeNull();
        options.AdminProtectReads.Should().BeFalse();
    }

    [Fact]
    public void Parse_YamlTokenFile_ReadsTheFileTrimmed()
    {
        _files["/run/secrets/sn-token"] = Token + "\n";
        _files[ConfigPath] = "base:\n  adminTokenFile: /run/secrets/sn-token\n  adminProtectReads: true\n";

        var options = Parse().Options!;

        options.AdminTokenFile.Should().Be("/run/secrets/sn-token");
        options.AdminToken!.Matches(Token).Should().BeTrue();
        options.AdminToken.Source.Should().Be("file /run/secrets/sn-token");
        options.AdminProtectReads.Should().BeTrue();
    }

    [Fact]
    public void Parse_TokenFileFlag_OverridesTheYamlToken()
    {
        _files["/tmp/flag-token"] = OtherToken;
        _files[ConfigPath] = $"base:\n  adminToken: {Token}\n";

        var options = Parse("--admin-token-file", "/tmp/flag-token").Options!;

        options.AdminToken!.Matches(OtherToken).Should().BeTrue();
        options.AdminToken.Matches(Token).Should().BeFalse();
    }

    [Fact]
    public void Parse_TokenVariable_SetsTheTokenOverTheYaml()
    {
        _files[ConfigPath] = $"base:\n  adminToken: {OtherToken}\n";
        _env[AdminTokenSettings.TokenVariable] = Token;

        var options = Parse().Options!;

        options.AdminToken!.Matches(Token).Should().BeTrue();
        options.AdminToken.Source.Should().Be("SUPERNODE_ADMIN_TOKEN");
    }

    [Fact]
    public void Parse_TokenFileVariable_ReadsThatFile()
    {
        _files["/var/run/token"] = Token;
        _env[AdminTokenSettings.FileVariable] = "/var/run/token";
        _env["SUPERNODE_ADMIN_PROTECT_READS"] = "true";

        var options = Parse().Options!;

        options.AdminToken!.Matches(Token).Should().BeTrue();
        options.AdminProtectReads.Should().BeTrue();
    }

    [Fact]
    public void Parse_YamlInlineToken_Accepted()
    {
        _files[ConfigPath] = $"base:\n  adminToken: \"{Token}\"\n";

        var options = Parse().Options!;

        options.AdminToken!.Matches(Token).Should().BeTrue();
        options.AdminToken.Source.Should().Be($"config {ConfigPath}: base.adminToken");
    }

    [Theory]
    [InlineData("/run/secrets/missing", "admin token file /run/secrets/missing does not exist")]
    [InlineData("/run/secrets/empty", "admin token file /run/secrets/empty: the admin token is empty")]
    [InlineData("/run/secrets/blank", "admin token file /run/secrets/blank: the admin token is empty")]
    [InlineData("/run/secrets/short", "admin token file /run/secrets/short: the admin token must be at least 16 characters long")]
    [InlineData("/run/secrets/spaced", "admin token file /run/secrets/spaced: the admin token must be visible ASCII characters without spaces")]
    [InlineData("/run/secrets/locked", "cannot read admin token file /run/secrets/locked: Access to the path is denied.")]
    public void Parse_BadTokenFile_ConfigErrorNamingTheFileNotTheToken(string path, string message)
    {
        _files["/run/secrets/empty"] = string.Empty;
        _files["/run/secrets/blank"] = " \n\t\n";
        _files["/run/secrets/short"] = "tooshort-0123\n";
        _files["/run/secrets/spaced"] = "two words-0123456789abcdef\n";
        _files["/run/secrets/locked"] = Token;
        _unreadable["/run/secrets/locked"] = new UnauthorizedAccessException("Access to the path is denied.");
        _files[ConfigPath] = $"base:\n  adminTokenFile: {path}\n";

        var result = Parse();

        result.Options.Should().BeNull();
        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().StartWith("supernode: " + message);
        _err.ToString().Should().NotContain("tooshort").And.NotContain("two words").And.NotContain(Token);
    }

    [Fact]
    public void Parse_BadTokenVariable_ConfigErrorWithoutTheValue()
    {
        _env[AdminTokenSettings.TokenVariable] = "short-secret";

        var result = Parse();

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().Contain("SUPERNODE_ADMIN_TOKEN: the admin token must be at least 16 characters").And.NotContain("short-secret");
    }

    [Fact]
    public void Parse_BothTokenVariables_ConfigError()
    {
        _files["/var/run/token"] = Token;
        _env[AdminTokenSettings.TokenVariable] = Token;
        _env[AdminTokenSettings.FileVariable] = "/var/run/token";

        var result = Parse();

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().Contain("set SUPERNODE_ADMIN_TOKEN or SUPERNODE_ADMIN_TOKEN_FILE, not both");
    }

    [Fact]
    public void Parse_BothYamlForms_ConfigError()
    {
        _files["/var/run/token"] = Token;
        _files[ConfigPath] = $"base:\n  adminToken: {Token}\n  adminTokenFile: /var/run/token\n";

        var result = Parse();

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().Contain("set base.adminToken or base.adminTokenFile, not both").And.NotContain(Token);
    }

    [Fact]
    public void Parse_BadYamlInlineToken_ConfigErrorWithoutTheValue()
    {
        _files[ConfigPath] = "base:\n  adminToken: hunter2\n";

        var result = Parse();

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().Contain("base.adminToken: the admin token must be at least 16").And.NotContain("hunter2");
    }

    [Fact]
    public void Parse_ProtectReadsWithoutToken_ConfigError()
    {
        var result = Parse("--admin-protect-reads");

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().Contain("adminProtectReads needs an admin token");
    }

    [Fact]
    public void Options_WithToken_ToStringHidesIt()
    {
        _files["/run/secrets/sn-token"] = Token;

        var options = Parse("--admin-token-file", "/run/secrets/sn-token").Options!;

        options.ToString().Should().NotContain(Token).And.Contain("AdminToken(hidden, from file /run/secrets/sn-token)");
    }

    [Fact]
    public void Options_TokenFileNeverRead_FailValidationInsteadOfRunningOpen()
    {
        var options = new SupernodeOptions { AdminTokenFile = "/run/secrets/sn-token" };

        options.ValidationErrors().Should().Contain("admin token file /run/secrets/sn-token was not read");
    }

    [Fact]
    public async Task RunAsync_MissingTokenFile_ExitsWithTheConfigErrorAndNeverRuns()
    {
        using var dir = new TempDirectory("dragonfly-sn-token-");
        var config = dir.Combine("supernode.yml");
        await File.WriteAllTextAsync(config, $"base:\n  adminTokenFile: {dir.Combine("absent")}\n");
        var ran = false;

        var exit = await SupernodeCommandLine.RunAsync(
            ["--config", config, "--home-dir", dir.Path],
            (_, _) =>
            {
                ran = true;
                return Task.FromResult(0);
            },
            _out,
            _err);

        exit.Should().Be(SupernodeCommandLine.ExitConfig);
        ran.Should().BeFalse();
        _err.ToString().Should().Be($"supernode: admin token file {dir.Combine("absent")} does not exist" + Environment.NewLine);
    }

    [Fact]
    public void Render_ListsTheTokenFileAndTheReadSwitchButNeverAToken()
    {
        var yaml = SupernodeConfigFile.Render(new SupernodeOptions());

        yaml.Should().Contain("  adminTokenFile: \"\"\n").And.Contain("  adminProtectReads: false\n");
        yaml.Should().NotContain("adminToken:");
    }

    private SupernodeCommandLine.ParseResult Parse(params string[] args) =>
        SupernodeCommandLine.Parse(
            args, _out, _err, _files.ContainsKey,
            p => _unreadable.TryGetValue(p, out var e) ? throw e : _files[p],
            name => _env.GetValueOrDefault(name));
}
