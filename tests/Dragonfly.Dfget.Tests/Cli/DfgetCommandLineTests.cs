using Dragonfly.Common.Rates;
using Dragonfly.Dfget.App.Cli;
using Dragonfly.Dfget.Engine;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfget.Tests.Cli;

public sealed class DfgetCommandLineTests : IDisposable
{
    private const string Url = "http://127.0.0.1:8000/dir/test.bin?sign=abc&x=1";
    private readonly TempDirectory _temp = new("dfget-cli-");

    private CliContext Context => new(_temp.Path, _temp.Combine("dfget.yml"), _temp.Combine("dragonfly.conf"), () => "/home/test/.small-dragonfly");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Parse_UrlOnly_AppliesTheOriginalDefaults()
    {
        var request = Download("-u", Url);

        request.Url.OriginalString.Should().Be(Url);
        request.Output.Should().Be(Path.Combine(_temp.Path, "test.bin?sign=abc&x=1"), "the default name is the text after the last '/', query included");
        request.Pattern.Should().Be(DownloadPattern.P2p);
        request.LocalLimit.Should().Be(new Rate(20 * Rate.MB));
        request.MinRate.Should().Be(new Rate(64 * Rate.KB));
        request.TotalLimit.Should().Be(Rate.Zero);
        request.Timeout.Should().Be(TimeSpan.Zero);
        request.ClientQueue.Should().Be(6);
        request.ExpireTime.Should().Be(TimeSpan.FromMinutes(3));
        request.AliveTime.Should().Be(TimeSpan.FromMinutes(5));
        request.Port.Should().Be(0);
        request.BindIp.Should().BeNull();
        request.WorkHome.Root.Should().Be("/home/test/.small-dragonfly");
        request.Nodes!.Nodes.Should().ContainSingle().Which.HostPort.Should().Be("127.0.0.1:8002");
        request.NotBackSource.Should().BeFalse();
        request.Md5.Should().BeNull();
        request.Headers.Should().BeEmpty();
        request.Filter.Should().BeEmpty();
    }

    [Fact]
    public void Parse_EveryLongFlag_IsBound()
    {
        var ca = _temp.Combine("ca.pem");
        File.WriteAllText(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");

        var invocation = Invocation(
            "--url", Url, "--output", "out/file.bin", "--md5", "0123456789abcdef0123456789abcdef", "--identifier", "v2",
            "--filter", "sign&expires", "--header", "Authorization: Bearer x", "--header", "X-A: 1", "--node", "a:8002=2,b=4",
            "--locallimit", "10M", "--minrate", "128K", "--totallimit", "1G", "--timeout", "1m30s", "--pattern", "cdn", "--notbs",
            "--callsystem", "tester", "--cacerts", ca, "--insecure", "--dfdaemon", "--showbar", "--console", "--verbose",
            "--home", "work", "--ip", "10.0.0.7", "--port", "15001", "--expiretime", "10m", "--alivetime", "1h", "--clientqueue", "9");
        var request = invocation.Request;

        request.Output.Should().Be(Path.Combine(_temp.Path, "out", "file.bin"));
        request.Md5.Should().Be("0123456789abcdef0123456789abcdef");
        request.Identifier.Should().Be("v2");
        request.Filter.Should().Equal("sign", "expires");
        request.Headers.Should().Equal("Authorization: Bearer x", "X-A: 1");
        request.Nodes!.Nodes.Select(n => (n.HostPort, n.Weight)).Should().Equal(("a:8002", 1), ("b:8002", 2));
        request.LocalLimit.Should().Be(new Rate(10 * Rate.MB));
        request.MinRate.Should().Be(new Rate(128 * Rate.KB));
        request.TotalLimit.Should().Be(new Rate(Rate.GB));
        request.Timeout.Should().Be(TimeSpan.FromSeconds(90));
        request.Pattern.Should().Be(DownloadPattern.Cdn);
        request.NotBackSource.Should().BeTrue();
        request.CallSystem.Should().Be("tester");
        request.CaCerts.Should().ContainSingle();
        request.Insecure.Should().BeTrue();
        request.Dfdaemon.Should().BeTrue();
        invocation.ShowBar.Should().BeTrue();
        invocation.Console.Should().BeTrue();
        invocation.Verbose.Should().BeTrue();
        request.Verbose.Should().BeTrue();
        request.WorkHome.Root.Should().Be(Path.Combine(_temp.Path, "work"));
        request.BindIp.Should().Be("10.0.0.7");
        request.Port.Should().Be(15001);
        request.ExpireTime.Should().Be(TimeSpan.FromMinutes(10));
        request.AliveTime.Should().Be(TimeSpan.FromHours(1));
        request.ClientQueue.Should().Be(9);
    }

    [Fact]
    public void Parse_ShortFlags_AreBound()
    {
        var invocation = Invocation("-u", Url, "-o", "f", "-m", "0123456789abcdef0123456789abcdef", "-i", "id", "-f", "sign",
            "-n", "n1", "-s", "1M", "-e", "30s", "-p", "source", "-b");

        var request = invocation.Request;
        request.Output.Should().EndWith("/f");
        request.Identifier.Should().Be("id");
        request.Filter.Should().Equal("sign");
        request.Nodes!.Nodes.Single().Host.Should().Be("n1");
        request.LocalLimit.Should().Be(new Rate(Rate.MB));
        request.Timeout.Should().Be(TimeSpan.FromSeconds(30));
        request.Pattern.Should().Be(DownloadPattern.Source);
        invocation.ShowBar.Should().BeTrue();
    }

    [Fact]
    public void Parse_RepeatedAndCommaSeparatedNodes_Accumulate()
    {
        var request = Download("-u", Url, "-n", "a,b:9000", "-n", "c=3", "--node", "d");

        request.Nodes!.Nodes.Select(n => n.HostPort).Should().Equal("a:8002", "b:9000", "c:8002", "d:8002");
        request.Nodes.Nodes.Select(n => n.Weight).Should().Equal(1, 1, 3, 1);
    }

    [Fact]
    public void Parse_NodeWeights_AreDividedByTheirGcd()
    {
        var request = Download("-u", Url, "-n", "a=2,b=4,c=6");

        request.Nodes!.Nodes.Select(n => n.Weight).Should().Equal(1, 2, 3);
    }

    [Fact]
    public void Parse_GoStyleBoolValues_AreAccepted()
    {
        var invocation = Invocation("-u", Url, "--notbs=true", "--insecure=false", "--verbose=1");

        invocation.Request.NotBackSource.Should().BeTrue();
        invocation.Request.Insecure.Should().BeFalse();
        invocation.Verbose.Should().BeTrue();
    }

    [Fact]
    public void Parse_DownloadVerbNamedExplicitly_IsTheSame()
    {
        Download("download", "-u", Url).Url.OriginalString.Should().Be(Url);
    }

    [Fact]
    public void Parse_ZeroRatesAndQueue_FallBackToDefaults()
    {
        var request = Download("-u", Url, "-s", "0", "--minrate", "0", "--clientqueue", "0", "-e", "0");

        request.LocalLimit.Should().Be(new Rate(20 * Rate.MB));
        request.MinRate.Should().Be(new Rate(64 * Rate.KB));
        request.ClientQueue.Should().Be(6);
        request.Timeout.Should().Be(TimeSpan.Zero);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("-u")]
    [InlineData("-u", "notaurl")]
    [InlineData("-u", "ftp://host/file")]
    [InlineData("-o", "x")]
    [InlineData("-u", Url, "-m", "nothex")]
    [InlineData("-u", Url, "-s", "fast")]
    [InlineData("-u", Url, "--minrate", "-3")]
    [InlineData("-u", Url, "--totallimit", "12Q")]
    [InlineData("-u", Url, "-e", "5 minutes")]
    [InlineData("-u", Url, "-e", "-5s")]
    [InlineData("-u", Url, "--expiretime", "3x")]
    [InlineData("-u", Url, "--alivetime", "abc")]
    [InlineData("-u", Url, "-p", "bittorrent")]
    [InlineData("-u", Url, "-n", "host:99999")]
    [InlineData("-u", Url, "-n", "a=0")]
    [InlineData("-u", Url, "--header", "no-colon")]
    [InlineData("-u", Url, "--ip", "999.1.1.1")]
    [InlineData("-u", Url, "--ip", "::1")]
    [InlineData("-u", Url, "--port", "70000")]
    [InlineData("-u", Url, "--port", "-1")]
    [InlineData("-u", Url, "--clientqueue", "many")]
    [InlineData("-u", Url, "--cacerts", "/definitely/missing.pem")]
    [InlineData("-u", "http://host/dir/")]
    public void Parse_BadFlagOrValue_IsInvalidWithAClearMessage(params string[] args)
    {
        var parsed = DfgetCommandLine.Parse(args, Context);

        var invalid = parsed.Should().BeOfType<ParsedCommand.Invalid>().Subject;
        invalid.Message.Should().NotBeNullOrWhiteSpace();
        invalid.Message.Should().NotContain("   at ", "no stack trace");
        ParsedCommand.Invalid.ExitCode.Should().NotBe(0);
    }

    [Fact]
    public void Parse_OutputIsADirectory_IsInvalid()
    {
        Directory.CreateDirectory(_temp.Combine("existing"));

        var parsed = DfgetCommandLine.Parse(["-u", Url, "-o", "existing"], Context);

        parsed.Should().BeOfType<ParsedCommand.Invalid>().Which.Message.Should().Contain("directory");
    }

    [Fact]
    public void Parse_YamlConfig_SuppliesDefaultsThatFlagsOverride()
    {
        File.WriteAllText(_temp.Combine("dfget.yml"), "nodes:\n  - sn1:8002\n  - sn2\nlocalLimit: 5M\nminRate: 32K\ntotalLimit: 50M\nclientQueueSize: 12\nworkHome: /data/df\nlogConfig:\n  maxSize: 10\n");
        File.WriteAllText(_temp.Combine("dragonfly.conf"), "[node]\naddress=ignored1,ignored2\n");

        var fromConfig = Download("-u", Url);
        fromConfig.Nodes!.Nodes.Select(n => n.HostPort).Should().Equal("sn1:8002", "sn2:8002");
        fromConfig.LocalLimit.Should().Be(new Rate(5 * Rate.MB));
        fromConfig.MinRate.Should().Be(new Rate(32 * Rate.KB));
        fromConfig.TotalLimit.Should().Be(new Rate(50 * Rate.MB));
        fromConfig.ClientQueue.Should().Be(12);
        fromConfig.WorkHome.Root.Should().Be("/data/df");

        var overridden = Download("-u", Url, "-n", "flagnode", "-s", "7M", "--minrate", "1M", "--totallimit", "2M", "--clientqueue", "3", "--home", "/h");
        overridden.Nodes!.Nodes.Single().Host.Should().Be("flagnode");
        overridden.LocalLimit.Should().Be(new Rate(7 * Rate.MB));
        overridden.MinRate.Should().Be(new Rate(Rate.MB));
        overridden.TotalLimit.Should().Be(new Rate(2 * Rate.MB));
        overridden.ClientQueue.Should().Be(3);
        overridden.WorkHome.Root.Should().Be("/h");
    }

    [Fact]
    public void Parse_IniConfigWhenNoYaml_SuppliesNodes()
    {
        File.WriteAllText(_temp.Combine("dragonfly.conf"), "# comment\n[node]\naddress=10.0.0.1,10.0.0.2:8003\n");

        Download("-u", Url).Nodes!.Nodes.Select(n => n.HostPort).Should().Equal("10.0.0.1:8002", "10.0.0.2:8003");
    }

    [Fact]
    public void Parse_InvalidYamlConfig_IsInvalidNamingTheFile()
    {
        File.WriteAllText(_temp.Combine("dfget.yml"), "localLimit: lots\n");

        DfgetCommandLine.Parse(["-u", Url], Context).Should().BeOfType<ParsedCommand.Invalid>()
            .Which.Message.Should().Contain("dfget.yml").And.Contain("localLimit");
    }

    [Fact]
    public void Parse_Server_BindsUploaderOptions()
    {
        var parsed = DfgetCommandLine.Parse(
            ["server", "--ip", "127.0.0.1", "--port", "15002", "--meta", "/w/meta/host.meta", "--data", "/w/data", "--home", "/w", "--expiretime", "180000ms", "--alivetime", "5m", "--verbose"],
            Context);

        var server = parsed.Should().BeOfType<ParsedCommand.Server>().Subject.Invocation;
        server.Options.BindAddress.ToString().Should().Be("127.0.0.1");
        server.Options.Port.Should().Be(15002);
        server.Options.HostMetaPath.Should().Be("/w/meta/host.meta");
        server.Options.LockPath.Should().Be("/w/meta/uploader.lock");
        server.Options.DataDirs.Should().Equal("/w/data");
        server.Options.OwnsDataDirs.Should().BeTrue("the work home's own data dir, under its lock");
        server.Options.ExpireTime.Should().Be(TimeSpan.FromMinutes(3));
        server.Options.AliveTime.Should().Be(TimeSpan.FromMinutes(5));
        server.Home.Root.Should().Be("/w");
        server.Verbose.Should().BeTrue();
    }

    [Fact]
    public void Parse_ServerDefaults_UseTheWorkHome()
    {
        var server = DfgetCommandLine.Parse(["server"], Context).Should().BeOfType<ParsedCommand.Server>().Subject.Invocation;

        server.Options.HostMetaPath.Should().Be("/home/test/.small-dragonfly/meta/host.meta");
        server.Options.DataDirs.Should().Equal("/home/test/.small-dragonfly/data");
        server.Options.Port.Should().Be(0);
        server.Options.BindAddress.ToString().Should().Be("0.0.0.0");
    }

    [Theory]
    [InlineData("server", "--data", "/shared/data", "--home", "/w")]
    [InlineData("server", "--meta", "/elsewhere/host.meta", "--data", "/w/data", "--home", "/w")]
    public void Parse_ServerDataDirAnotherUploaderMayShare_DoesNotOwnIt(params string[] args)
    {
        var server = DfgetCommandLine.Parse(args, Context).Should().BeOfType<ParsedCommand.Server>().Subject.Invocation;

        server.Options.OwnsDataDirs.Should().BeFalse();
    }

    [Theory]
    [InlineData("server", "--port", "x")]
    [InlineData("server", "--alivetime", "forever")]
    [InlineData("server", "--ip", "nope")]
    public void Parse_ServerBadValues_AreInvalid(params string[] args) =>
        DfgetCommandLine.Parse(args, Context).Should().BeOfType<ParsedCommand.Invalid>();

    [Fact]
    public void Parse_Version_IsVersion() =>
        DfgetCommandLine.Parse(["version"], Context).Should().BeOfType<ParsedCommand.Version>();

    [Fact]
    public void Parse_Help_DescribesTheDownloadFlags()
    {
        var help = DfgetCommandLine.Parse(["--help"], Context).Should().BeOfType<ParsedCommand.Help>().Subject.Text;

        help.Should().Contain("--url").And.Contain("--locallimit").And.Contain("--notbs");
    }

    private DownloadRequest Download(params string[] args) => Invocation(args).Request;

    private DownloadInvocation Invocation(params string[] args)
    {
        var parsed = DfgetCommandLine.Parse(args, Context);
        if (parsed is ParsedCommand.Invalid invalid)
        {
            throw new Xunit.Sdk.XunitException("unexpected parse error: " + invalid.Message);
        }

        return parsed.Should().BeOfType<ParsedCommand.Download>().Subject.Invocation;
    }
}
