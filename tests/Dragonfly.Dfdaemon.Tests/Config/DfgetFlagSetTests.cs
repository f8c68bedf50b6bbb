using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfget.Engine;

namespace Dragonfly.Dfdaemon.Tests.Config;

public class DfgetFlagSetTests
{
    [Fact]
    public void Parse_Empty_IsEmpty() => DfgetFlagSet.Parse([]).Should().BeEquivalentTo(DfgetFlagSet.Empty);

    [Fact]
    public void Parse_EveryValueFlag_LongShortAndInlineForms()
    {
        var set = DfgetFlagSet.Parse(
        [
            "-n", "a:8002,b", "--node=c=2", "-f", "sign&expires", "--header", "X-A: 1", "--header=X-B:2", "-i", "team",
            "--callsystem", "ci", "--minrate=128K", "-e", "90s", "-p", "cdn", "--ip", "10.1.2.3", "--port=15100",
            "--expiretime", "10m", "--alivetime", "1h", "--clientqueue", "12", "--home", "/var/lib/df",
        ]);
        set.Nodes!.Nodes.Should().HaveCount(3);
        set.Filter.Should().Equal("sign", "expires");
        set.Headers.Should().Equal("X-A: 1", "X-B:2");
        set.Identifier.Should().Be("team");
        set.CallSystem.Should().Be("ci");
        set.MinRate!.Value.BytesPerSecond.Should().Be(128 * 1024);
        set.Timeout.Should().Be(TimeSpan.FromSeconds(90));
        set.Pattern.Should().Be(DownloadPattern.Cdn);
        set.Ip.Should().Be("10.1.2.3");
        set.Port.Should().Be(15100);
        set.ExpireTime.Should().Be(TimeSpan.FromMinutes(10));
        set.AliveTime.Should().Be(TimeSpan.FromHours(1));
        set.ClientQueue.Should().Be(12);
        set.Home.Should().Be("/var/lib/df");
        set.Ignored.Should().BeEmpty();
    }

    [Fact]
    public void Parse_BoolFlags_AloneOrWithValue()
    {
        var set = DfgetFlagSet.Parse(["--verbose", "--insecure=true"]);
        set.Verbose.Should().BeTrue();
        set.Insecure.Should().BeTrue();
        DfgetFlagSet.Parse(["--verbose=false"]).Verbose.Should().BeFalse();
    }

    [Fact]
    public void Parse_FlagsDfdaemonOwns_ValidatedThenListedAsIgnored()
    {
        var set = DfgetFlagSet.Parse(["-s", "10M", "--totallimit", "50M", "--notbs", "--dfdaemon", "-b", "--console"]);
        set.Ignored.Should().HaveCount(6);
        set.Ignored[0].Should().Contain("ratelimit");
        FluentActions.Invoking(() => DfgetFlagSet.Parse(["-s", "fast"])).Should().Throw<FormatException>().WithMessage("*'fast'*");
    }

    [Theory]
    [InlineData(new[] { "-u", "http://x/y" }, "set by dfdaemon")]
    [InlineData(new[] { "--output", "/tmp/x" }, "set by dfdaemon")]
    [InlineData(new[] { "-m", "0123456789abcdef0123456789abcdef" }, "every blob")]
    [InlineData(new[] { "-p", "source" }, "registry_mirror.direct")]
    [InlineData(new[] { "-p", "bt" }, "'bt'")]
    [InlineData(new[] { "--nosuch" }, "'--nosuch'")]
    [InlineData(new[] { "value-without-flag" }, "'value-without-flag'")]
    [InlineData(new[] { "--ip" }, "needs a value")]
    [InlineData(new[] { "--ip", "host.example" }, "not an IP")]
    [InlineData(new[] { "--port", "70000" }, "not a port")]
    [InlineData(new[] { "--port", "-1" }, "not a port")]
    [InlineData(new[] { "--clientqueue", "0" }, "positive")]
    [InlineData(new[] { "--timeout", "0" }, "duration")]
    [InlineData(new[] { "--header", "novalue" }, "Key: value")]
    [InlineData(new[] { "--node", "bad host:x" }, "--node")]
    [InlineData(new[] { "--verbose=maybe" }, "true or false")]
    public void Parse_Invalid_OneLineErrorNamingTheProblem(string[] tokens, string named)
    {
        var e = Assert.Throws<FormatException>(() => DfgetFlagSet.Parse(tokens));
        e.Message.Should().StartWith("dfget_flags: ").And.Contain(named).And.NotContain("\n");
    }
}
