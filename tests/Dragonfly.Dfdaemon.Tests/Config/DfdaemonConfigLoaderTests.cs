using Dragonfly.Dfdaemon.Cli;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfdaemon.Tests.Config;

public class DfdaemonConfigLoaderTests
{
    private static readonly Dictionary<string, string> NoEnv = new();

    private static DfdaemonOptions Load(string[] args, Dictionary<string, string>? env = null, string? home = "/home/u") =>
        DfdaemonConfigLoader.Load(DfdaemonCommandLine.Parse(args), env ?? NoEnv, home);

    private static DfdaemonExitCode FailureOf(Action action)
    {
        var e = Assert.Throws<DfdaemonConfigException>(action);
        e.Message.Should().NotContain("\n");
        return e.ExitCode;
    }

    [Fact]
    public void Load_NoFlags_UsesDefaults()
    {
        using var dir = new TempDirectory();
        var o = Load(["--config", WriteYaml(dir, "{}")]);
        o.Port.Should().Be(65001);
        o.ListenAddress.Should().Be("127.0.0.1");
        o.HostIp.Should().BeNull("unset: the engine advertises its route's local IP, not loopback");
        o.PeerIp.Should().BeNull();
        o.DfgetFlags.Should().BeEquivalentTo(DfgetFlagSet.Empty);
        o.RegistryMirror.Remote.Should().Be(new Uri("https://index.docker.io"));
        o.WorkHome.Should().Be("/home/u/.small-dragonfly");
        o.LocalRepo.Should().Be("/home/u/.small-dragonfly/dfdaemon/data/");
        o.RateLimit.BytesPerSecond.Should().Be(20L * 1024 * 1024);
        o.MaxProcs.Should().Be(4);
        o.OpenProxy.Should().BeFalse();
        o.VerifyBlobAccess.Should().BeTrue("a blob is served from the shared P2P cache only to a client the registry lets read it");
        o.Supernodes.Should().BeNull();
        o.ServeHttps.Should().BeFalse();
    }

    [Fact]
    public void Load_FullYaml_BindsEverySection()
    {
        using var dir = new TempDirectory();
        var ca = Path.Combine(dir.Path, "ca.pem");
        var key = Path.Combine(dir.Path, "ca.key");
        File.WriteAllText(ca, "x");
        File.WriteAllText(key, "x");
        var yaml = $"""
            port: 65002
            address: 0.0.0.0
            registry_mirror:
              remote: http://reg.example:5000
              certs: [{ca}]
              insecure: true
              direct: true
            proxies:
              - regx: blobs/sha256.*
              - regx: a\.example
                use_https: true
              - regx: b\.example
                direct: true
                redirect: c.example:8080
            hijack_https:
              cert: {ca}
              key: {key}
              hosts:
                - regx: mirror\.example
                  insecure: true
            dfget_flags: ["--verbose"]
            localIP: 10.0.0.1
            supernodes: ["sn1:8002", "sn2"]
            ratelimit: 5M
            open_proxy: true
            verify_blob_access: false
            workHome: {dir.Path}/wh
            """;
        var o = Load(["--config", WriteYaml(dir, yaml)]);
        o.Port.Should().Be(65002);
        o.ListenAddress.Should().Be("0.0.0.0");
        o.RegistryMirror.Remote.Should().Be(new Uri("http://reg.example:5000"));
        o.RegistryMirror.Insecure.Should().BeTrue();
        o.RegistryMirror.Direct.Should().BeTrue();
        o.RegistryMirror.Certs.Should().Equal(ca);
        o.Proxies.Should().HaveCount(3);
        o.Proxies[1].UseHttps.Should().BeTrue();
        o.Proxies[2].Direct.Should().BeTrue();
        o.Proxies[2].Redirect.Should().Be("c.example:8080");
        o.HijackHttps!.Hosts.Should().ContainSingle().Which.Insecure.Should().BeTrue();
        o.DfgetFlags.Verbose.Should().BeTrue();
        o.LocalIp.Should().Be("10.0.0.1");
        o.PeerIp.Should().Be("10.0.0.1");
        o.Supernodes!.Nodes.Should().HaveCount(2);
        o.RateLimit.BytesPerSecond.Should().Be(5L * 1024 * 1024);
        o.OpenProxy.Should().BeTrue();
        o.VerifyBlobAccess.Should().BeFalse();
        o.LocalRepo.Should().Be($"{dir.Path}/wh/dfdaemon/data/");
    }

    [Theory]
    [InlineData("", 443)]
    [InlineData("      port: 5000\n", 5000)]
    public void Load_HijackHostPort_BoundDefault443(string portLine, int expected)
    {
        using var dir = new TempDirectory();
        var ca = Path.Combine(dir.Path, "ca.pem");
        File.WriteAllText(ca, "x");
        var yaml = $"hijack_https:\n  cert: {ca}\n  key: {ca}\n  hosts:\n    - regx: mirror\\.example\n{portLine}";

        var host = Load(["--config", WriteYaml(dir, yaml)]).HijackHttps!.Hosts.Should().ContainSingle().Subject;

        host.Port.Should().Be(expected);
        host.Matches("mirror.example", expected).Should().BeTrue();
        host.Matches("mirror.example", expected + 1).Should().BeFalse();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void Load_HijackHostPortOutOfRange_ExitCode10(int port)
    {
        using var dir = new TempDirectory();
        var ca = Path.Combine(dir.Path, "ca.pem");
        File.WriteAllText(ca, "x");
        var yaml = $"hijack_https:\n  cert: {ca}\n  key: {ca}\n  hosts:\n    - regx: mirror\\.example\n      port: {port}\n";

        FailureOf(() => Load(["--config", WriteYaml(dir, yaml)])).Should().Be(DfdaemonExitCode.ConfigError);
    }

    [Fact]
    public void Load_FlagsOverEnvOverYaml_LaterWins()
    {
        using var dir = new TempDirectory();
        var config = WriteYaml(dir, "port: 1000\nratelimit: 1M\nhostIp: 10.0.0.1\n");
        var env = new Dictionary<string, string> { ["DFDAEMON_PORT"] = "2000", ["DFDAEMON_RATELIMIT"] = "2M" };
        var o = Load(["--config", config, "--port", "3000"], env);
        o.Port.Should().Be(3000);
        o.RateLimit.BytesPerSecond.Should().Be(2L * 1024 * 1024);
        o.HostIp.Should().Be("10.0.0.1");
    }

    [Fact]
    public void Load_InvalidPort_ExitCode14()
    {
        FailureOf(() => Load(["--port", "70000"])).Should().Be(DfdaemonExitCode.InvalidPort);
        FailureOf(() => Load(["--port", "abc"])).Should().Be(DfdaemonExitCode.InvalidPort);
    }

    [Fact]
    public void Load_InvalidRate_ExitCode13() =>
        FailureOf(() => Load(["--ratelimit", "fast"])).Should().Be(DfdaemonExitCode.InvalidRate);

    [Fact]
    public void Load_RelativeLocalRepo_ExitCode12() =>
        FailureOf(() => Load(["--localrepo", "data/repo"])).Should().Be(DfdaemonExitCode.RepoNotAbsolute);

    [Fact]
    public void Load_NoHome_ExitCode11() =>
        FailureOf(() => Load([], home: null)).Should().Be(DfdaemonExitCode.HomeMissing);

    [Fact]
    public void Load_MissingExplicitConfig_ExitCode10() =>
        FailureOf(() => Load(["--config", "/nonexistent/dfdaemon.yml"])).Should().Be(DfdaemonExitCode.ConfigError);

    [Theory]
    [InlineData("prot: 1\n")]
    [InlineData("port: [1]\n")]
    [InlineData("proxies:\n  - regx: '('\n")]
    [InlineData("proxies:\n  - direct: true\n")]
    [InlineData("registry_mirror:\n  remote: ftp://x\n")]
    [InlineData("hijack_https:\n  cert: /nonexistent\n  key: /nonexistent\n")]
    public void Load_BadYaml_ExitCode10(string yaml)
    {
        using var dir = new TempDirectory();
        FailureOf(() => Load(["--config", WriteYaml(dir, yaml)])).Should().Be(DfdaemonExitCode.ConfigError);
    }

    [Fact]
    public void Load_Defaults_EngineHomeSeparateFromDfgetHomeAndRepo()
    {
        var o = Load([]);
        o.EngineHome.Should().Be("/home/u/.small-dragonfly/dfdaemon/home", "dfdaemon's P2P work home is not dfget's default ~/.small-dragonfly");
        o.LocalRepo.Should().NotStartWith(o.EngineHome);
        o.LogsDir.Should().Be("/home/u/.small-dragonfly/logs");
    }

    [Theory]
    [InlineData("/home/u/.small-dragonfly/dfdaemon/home/data")]
    [InlineData("/home/u/.small-dragonfly/dfdaemon")]
    [InlineData("/home/u/.small-dragonfly")]
    public void Load_LocalRepoOverlapsEngineHome_ExitCode10(string repo) =>
        FailureOf(() => Load(["--localrepo", repo])).Should().Be(DfdaemonExitCode.ConfigError);

    [Fact]
    public void Load_NodeFlagRepeated_CollectsAll()
    {
        var o = Load(["--node", "a:8002,b", "--node", "c=2"]);
        o.Supernodes!.Nodes.Should().HaveCount(3);
    }

    [Fact]
    public void Load_DfgetFlagsOfTheOriginalsExample_SetTheEngine()
    {
        using var dir = new TempDirectory();
        var yaml = """
            dfget_flags: ["--node","192.168.33.21","--verbose","--ip","192.168.33.23","--port","15001","--expiretime","3m0s","--alivetime","5m0s","-f","filterParam1&filterParam2"]
            """;
        var o = Load(["--config", WriteYaml(dir, yaml)]);
        o.Supernodes.Should().BeNull();
        o.EffectiveSupernodes!.Nodes.Should().ContainSingle().Which.ToString().Should().Contain("192.168.33.21");
        o.PeerIp.Should().Be("192.168.33.23");
        o.EnginePeerPort.Should().Be(15001);
        o.DfgetFlags.ExpireTime.Should().Be(TimeSpan.FromMinutes(3));
        o.DfgetFlags.AliveTime.Should().Be(TimeSpan.FromMinutes(5));
        o.DfgetFlags.Filter.Should().Equal("filterParam1", "filterParam2");
        o.DfgetFlags.Verbose.Should().BeTrue();
    }

    [Fact]
    public void Load_OwnSettingsWinOverDfgetFlags()
    {
        using var dir = new TempDirectory();
        var yaml = """
            supernodes: ["sn1:8002"]
            peerPort: 16000
            localIP: 10.0.0.2
            hostIp: 10.0.0.3
            dfget_flags: ["--node", "other:8002", "--port", "15001"]
            """;
        var o = Load(["--config", WriteYaml(dir, yaml)]);
        o.EffectiveSupernodes!.Nodes.Should().ContainSingle().Which.ToString().Should().Contain("sn1");
        o.EnginePeerPort.Should().Be(16000);
        o.PeerIp.Should().Be("10.0.0.2", "localIP is preferred to hostIp");
        (o with { LocalIp = null }).PeerIp.Should().Be("10.0.0.3");
    }

    [Theory]
    [InlineData("[\"--md5\", \"0123456789abcdef0123456789abcdef\"]", "--md5")]
    [InlineData("[\"-o\", \"/tmp/x\"]", "-o")]
    [InlineData("[\"--bogus\"]", "--bogus")]
    [InlineData("[\"--alivetime\", \"soon\"]", "soon")]
    [InlineData("[\"--cacerts\", \"/nonexistent/ca.pem\"]", "/nonexistent/ca.pem")]
    [InlineData("[\"--home\", \"relative/home\"]", "absolute")]
    public void Load_BadDfgetFlags_ExitCode10NamingTheProblem(string list, string named)
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DfdaemonConfigException>(() => Load(["--config", WriteYaml(dir, "dfget_flags: " + list + "\n")]));
        e.ExitCode.Should().Be(DfdaemonExitCode.ConfigError);
        e.Message.Should().Contain(named);
    }

    [Fact]
    public void Load_DfgetFlagsHome_ReplacesEngineHomeAndIsCheckedAgainstTheRepo()
    {
        using var dir = new TempDirectory();
        var home = Path.Combine(dir.Path, "p2p-home");
        var o = Load(["--config", WriteYaml(dir, $"dfget_flags: [\"--home\", \"{home}\"]\n")]);
        o.EngineHome.Should().Be(home);
        FailureOf(() => Load(["--config", WriteYaml(dir, $"dfget_flags: [\"--home\", \"{home}\"]\n"), "--localrepo", home + "/repo"]))
            .Should().Be(DfdaemonExitCode.ConfigError);
    }

    [Fact]
    public void DefaultYaml_ParsesBack()
    {
        var file = DfdaemonConfigLoader.ParseYaml(DfdaemonConfigLoader.DefaultYaml(), "default");
        file.Port.Should().Be(65001);
        file.RegistryMirror!.Remote.Should().Be("https://index.docker.io");
        file.OpenProxy.Should().BeFalse();
        file.VerifyBlobAccess.Should().BeTrue();
    }

    private static string WriteYaml(TempDirectory dir, string yaml)
    {
        var path = Path.Combine(dir.Path, "dfdaemon.yml");
        File.WriteAllText(path, yaml);
        return path;
    }
}
