using Dragonfly.Common.Rates;
using Dragonfly.Supernode.Hosting;

namespace Dragonfly.Supernode.Tests.Hosting;

public sealed class SupernodeCommandLineTests
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);

    [Fact]
    public void Parse_NoArgs_OriginalDefaults()
    {
        var options = Parse().Options!;

        options.ListenPort.Should().Be(8002);
        options.DownloadPort.Should().Be(8001);
        options.HomeDir.Should().Be("/home/admin/supernode");
        options.CdnPattern.Should().Be("local");
        options.SystemReservedBandwidth.Should().Be(Rate.FromMegabytes(20));
        options.MaxBandwidth.Should().Be(Rate.FromMegabytes(200));
        options.CdnSourceRate.Should().Be(Rate.FromMegabytes(180));
        options.PeerUpLimit.Should().Be(5);
        options.PeerDownLimit.Should().Be(4);
        options.CdnLoadLimit.Should().Be(0);
        options.FailAccessInterval.Should().Be(TimeSpan.FromMinutes(3));
        options.GcInitialDelay.Should().Be(TimeSpan.FromSeconds(6));
        options.GcMetaInterval.Should().Be(TimeSpan.FromMinutes(2));
        options.TaskExpireTime.Should().Be(TimeSpan.FromMinutes(3));
        options.PeerGcDelay.Should().Be(TimeSpan.FromMinutes(3));
        options.AdvertiseIp.Should().BeNull();
    }

    [Fact]
    public void Parse_AllFlags_Bound()
    {
        var options = Parse(
            "--cdn-pattern", "source", "--port", "9002", "--download-port", "9001", "--home-dir", "/srv/sn",
            "--system-bandwidth", "10MB", "--max-bandwidth", "1.5G", "--pool-size", "3", "--profiler", "-D",
            "--up-limit", "7", "--down-limit", "2", "--cdn-load-limit", "12", "--advertise-ip", "10.0.0.5", "--fail-access-interval", "1h30m",
            "--gc-initial-delay", "500ms", "--gc-meta-interval", "30s", "--task-expire-time", "10m", "--peer-gc-delay", "1m").Options!;

        options.CdnPattern.Should().Be("source");
        options.ListenPort.Should().Be(9002);
        options.DownloadPort.Should().Be(9001);
        options.HomeDir.Should().Be("/srv/sn");
        options.SystemReservedBandwidth.BytesPerSecond.Should().Be(10 * Rate.MB);
        options.MaxBandwidth.BytesPerSecond.Should().Be((long)(1.5 * Rate.GB));
        options.SchedulerCorePoolSize.Should().Be(3);
        options.EnableProfiler.Should().BeTrue();
        options.Debug.Should().BeTrue();
        options.PeerUpLimit.Should().Be(7);
        options.PeerDownLimit.Should().Be(2);
        options.CdnLoadLimit.Should().Be(12);
        options.AdvertiseIp.Should().Be("10.0.0.5");
        options.FailAccessInterval.Should().Be(TimeSpan.FromMinutes(90));
        options.GcInitialDelay.Should().Be(TimeSpan.FromMilliseconds(500));
        options.GcMetaInterval.Should().Be(TimeSpan.FromSeconds(30));
        options.TaskExpireTime.Should().Be(TimeSpan.FromMinutes(10));
        options.PeerGcDelay.Should().Be(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void Parse_YamlConfig_BaseKeysThenFlagsWin()
    {
        _files["/etc/dragonfly/supernode.yml"] = "base:\n  listenPort: 7002\n  homeDir: /data/sn\n  peerUpLimit: 9\n  cdnLoadLimit: 16\n  gcMetaInterval: 5m\n  maxBandwidth: 100MB\n  logConfig:\n    maxSize: 40\n";

        var options = Parse("--port", "7003").Options!;

        options.ListenPort.Should().Be(7003);
        options.HomeDir.Should().Be("/data/sn");
        options.PeerUpLimit.Should().Be(9);
        options.CdnLoadLimit.Should().Be(16);
        options.GcMetaInterval.Should().Be(TimeSpan.FromMinutes(5));
        options.MaxBandwidth.Should().Be(Rate.FromMegabytes(100));
    }

    [Fact]
    public void Parse_YamlSourceTimeouts_BoundAndValidated()
    {
        _files["/etc/dragonfly/supernode.yml"] = "base:\n  sourceHeadersTimeout: 5s\n  sourceIdleTimeout: 2m\n";

        var options = Parse().Options!;

        options.SourceHeadersTimeout.Should().Be(TimeSpan.FromSeconds(5));
        options.SourceIdleTimeout.Should().Be(TimeSpan.FromMinutes(2));
        new SupernodeOptions().SourceIdleTimeout.Should().Be(TimeSpan.FromSeconds(60));
        new SupernodeOptions { SourceIdleTimeout = TimeSpan.Zero }.ValidationErrors().Should().ContainSingle().Which.Should().Contain("sourceIdleTimeout");
    }

    [Fact]
    public void Parse_ExplicitConfigMissing_Error()
    {
        var result = Parse("--config", "/nope/supernode.yml");

        result.Options.Should().BeNull();
        result.ExitCode.Should().NotBe(0);
        _err.ToString().Should().Be("supernode: config file /nope/supernode.yml does not exist" + Environment.NewLine);
    }

    [Theory]
    [InlineData("base:\n  listenPort: lots\n", "base.listenPort: 'lots' is not an integer")]
    [InlineData("base:\n  colour: blue\n", "base.colour: unknown key")]
    [InlineData("base: [1, 2\n", "invalid YAML")]
    [InlineData("base:\n  gcMetaInterval: 5x\n", "is not a duration")]
    public void Parse_BadYaml_OneLineError(string yaml, string expected)
    {
        _files["/tmp/x.yml"] = yaml;

        var result = Parse("--config", "/tmp/x.yml");

        result.Options.Should().BeNull();
        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().Contain(expected);
        _err.ToString().Trim().Should().NotContain("\n").And.NotContain("   at ");
    }

    [Theory]
    [InlineData("--port", "70000", "port must be between 0 and 65535")]
    [InlineData("--up-limit", "0", "up-limit must be between 1 and 1000")]
    [InlineData("--cdn-pattern", "nginx", "cdn-pattern must be 'local' or 'source'")]
    [InlineData("--advertise-ip", "not-an-ip", "advertise-ip 'not-an-ip' is not an IPv4 address")]
    [InlineData("--system-bandwidth", "300MB", "system-bandwidth (300MB) must be less than max-bandwidth (200MB)")]
    [InlineData("--max-bandwidth", "fast", "flag --max-bandwidth: 'fast' is not a size")]
    [InlineData("--task-expire-time", "forever", "flag --task-expire-time: 'forever' is not a duration")]
    [InlineData("--home-dir", "relative/dir", "must be an absolute path")]
    [InlineData("--gc-meta-interval", "0s", "gc-meta-interval must be between 1s and 24h")]
    public void Parse_BadValue_NonZeroExitAndClearMessage(string flag, string value, string expected)
    {
        var result = Parse(flag, value);

        result.Options.Should().BeNull();
        result.ExitCode.Should().NotBe(0);
        _err.ToString().Should().Contain(expected);
        _err.ToString().Trim().Should().NotContain("\n");
    }

    [Theory]
    [InlineData("--port", "abc")]
    [InlineData("--no-such-flag")]
    public void Parse_UnknownFlagOrBadFormat_UsageError(params string[] args)
    {
        var result = Parse(args);

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitUsage);
        _err.ToString().Should().StartWith("supernode: ").And.Contain("--help");
    }

    [Fact]
    public void Parse_Help_PrintsFlagsAndExitsZero()
    {
        var result = Parse("--help");

        result.ExitCode.Should().Be(0);
        result.Options.Should().BeNull();
        _out.ToString().Should().Contain("--download-port").And.Contain("--advertise-ip").And.Contain("config default");
    }

    [Fact]
    public void Parse_Version_PrintsVersion()
    {
        Parse("version").ExitCode.Should().Be(0);
        _out.ToString().Should().StartWith("supernode version ");
    }

    [Fact]
    public void Parse_ConfigDefault_PrintsYamlThatParsesBackToDefaults()
    {
        Parse("config", "default").ExitCode.Should().Be(0);
        var yaml = _out.ToString();
        yaml.Should().StartWith("base:\n").And.Contain("  listenPort: 8002").And.Contain("  failAccessInterval: 3m");

        var reparsed = SupernodeConfigFile.Apply(new SupernodeOptions(), yaml.Replace("advertiseIP: \"\"", "advertiseIP: ", StringComparison.Ordinal), "default");
        reparsed.Should().BeEquivalentTo(new SupernodeOptions());
    }

    [Fact]
    public void Parse_HostArguments_ForwardedNotRejected()
    {
        var result = Parse("--environment=Development", "--contentRoot=/tmp", "--port=9100");

        result.Options!.ListenPort.Should().Be(9100);
        result.HostArgs.Should().BeEquivalentTo("--environment=Development", "--contentRoot=/tmp");
    }

    [Fact]
    public async Task RunAsync_ConfigurationExceptionFromHost_OneLineExitNonZero()
    {
        var code = await SupernodeCommandLine.RunAsync(
            ["--advertise-ip", "10.1.1.1"],
            (_, _) => throw new SupernodeConfigurationException("no non-loopback IPv4 address found on this host; pass --advertise-ip <ip>"),
            _out,
            _err);

        code.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().Contain("pass --advertise-ip");
    }

    private SupernodeCommandLine.ParseResult Parse(params string[] args) =>
        SupernodeCommandLine.Parse(args, _out, _err, _files.ContainsKey, p => _files[p]);
}

public class SupernodeCommandLineEnvironmentTests
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly Dictionary<string, string> _env = new(StringComparer.Ordinal);

    [Fact]
    public void Parse_EnvironmentVariables_SetFlagsTheCommandLineOmits()
    {
        _env["SUPERNODE_DOWNLOAD_PORT"] = "9101";
        _env["SUPERNODE_HOME_DIR"] = "/tmp/sn-env";
        _env["SUPERNODE_TASK_EXPIRE_TIME"] = "5m";
        _env["SUPERNODE_DEBUG"] = "true";

        var options = Parse().Options!;

        options.DownloadPort.Should().Be(9101);
        options.HomeDir.Should().Be("/tmp/sn-env");
        options.TaskExpireTime.Should().Be(TimeSpan.FromMinutes(5));
        options.Debug.Should().BeTrue();
    }

    [Fact]
    public void Parse_FlagAndEnvironment_FlagWins()
    {
        _env["SUPERNODE_PORT"] = "9102";
        _env["SUPERNODE_DEBUG"] = "true";

        var options = Parse("--port", "9103", "-D").Options!;

        options.ListenPort.Should().Be(9103);
        options.Debug.Should().BeTrue();
    }

    [Fact]
    public void Parse_BadEnvironmentValue_FailsNamingTheVariable()
    {
        _env["SUPERNODE_DEBUG"] = "maybe";

        var result = Parse();

        result.Options.Should().BeNull();
        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().Contain("SUPERNODE_DEBUG=maybe");
    }

    [Fact]
    public void Parse_EnvironmentValueRejectedByValidation_ExitsWithConfigError()
    {
        _env["SUPERNODE_PORT"] = "99999";

        var result = Parse();

        result.Options.Should().BeNull();
        result.ExitCode.Should().Be(SupernodeCommandLine.ExitConfig);
        _err.ToString().Should().Contain("port");
    }

    [Fact]
    public void Parse_VersionCommand_IgnoresEnvironment()
    {
        _env["SUPERNODE_PORT"] = "not-a-number";

        var result = Parse("version");

        result.ExitCode.Should().Be(SupernodeCommandLine.ExitOk);
        _out.ToString().Should().StartWith("supernode version");
    }

    private SupernodeCommandLine.ParseResult Parse(params string[] args) =>
        SupernodeCommandLine.Parse(args, _out, _err, _ => false, _ => string.Empty, name => _env.GetValueOrDefault(name));
}
