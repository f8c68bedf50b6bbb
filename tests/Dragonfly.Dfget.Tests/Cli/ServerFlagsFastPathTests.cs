using System.Reflection;
using CommandLine;
using Dragonfly.Dfget.App.Cli;

namespace Dragonfly.Dfget.Tests.Cli;

public sealed class ServerFlagsFastPathTests
{
    [Fact]
    public void Flags_MatchTheServerVerbAttributes()
    {
        var expected = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var property in typeof(ServerVerb).GetProperties())
        {
            var option = property.GetCustomAttribute<OptionAttribute>();
            option.Should().NotBeNull($"{property.Name} is a flag");
            option!.ShortName.Should().BeNullOrEmpty("the fast path knows long names only");
            expected["--" + option.LongName] = property.PropertyType == typeof(bool)
                ? true
                : property.PropertyType == typeof(string) ? false : throw new Xunit.Sdk.XunitException($"unexpected flag type {property.PropertyType}");
        }

        ServerFlagsFastPath.Flags.Should().BeEquivalentTo(expected);
    }

    [Theory]
    [InlineData("server")]
    [InlineData("server", "--ip", "127.0.0.1", "--port", "15001", "--meta", "/w/meta/host.meta", "--data", "/w/data", "--home", "/w", "--expiretime", "180000ms", "--alivetime", "300000ms")]
    [InlineData("server", "--ip", "127.0.0.1", "--port", "0", "--meta", "/w/meta/host.meta", "--data", "/w/data", "--home", "/w", "--expiretime", "3m", "--alivetime", "5m", "--verbose")]
    [InlineData("server", "--port=15002", "--home=/w", "--totallimit", "20M", "--verbose=true")]
    [InlineData("server", "--verbose=false", "--ip", "::1")]
    [InlineData("server", "--port", "70000", "--alivetime", "nonsense")]
    public void TryParse_PlainForms_AgreeWithCommandLineParser(params string[] args)
    {
        var normalized = ArgumentNormalizer.Normalize(args);

        var fast = ServerFlagsFastPath.TryParse(normalized);
        var reference = DfgetCommandLine.ParseServerWithCommandLineParser(normalized);

        fast.Should().NotBeNull();
        reference.Should().NotBeNull();
        fast.Should().BeEquivalentTo(reference);
    }

    [Theory]
    [InlineData]
    [InlineData("-u", "http://a/b")]
    [InlineData("version")]
    [InlineData("server", "--help")]
    [InlineData("server", "--bogus", "1")]
    [InlineData("server", "-p", "1")]
    [InlineData("server", "--port")]
    [InlineData("server", "--port", "1", "--port", "2")]
    [InlineData("server", "--port", "-1")]
    [InlineData("server", "--port=")]
    [InlineData("server", "--verbose", "--verbose")]
    [InlineData("server", "--verbose=yes")]
    [InlineData("server", "stray")]
    [InlineData("server", "--", "x")]
    [InlineData("server", "--PORT", "1")]
    public void TryParse_UnusualForms_AreLeftToCommandLineParser(params string[] args)
    {
        ServerFlagsFastPath.TryParse(ArgumentNormalizer.Normalize(args)).Should().BeNull();
    }

    [Fact]
    public void Parse_ServerAsLaunched_BindsTheSameOptionsAsCommandLineParser()
    {
        var context = new CliContext("/cwd", "/nonexistent/dfget.yml", "/nonexistent/dragonfly.conf", () => "/default-home");
        string[] args = ["server", "--ip", "127.0.0.1", "--port", "15001", "--meta", "/w/meta/host.meta", "--data", "/w/data", "--home", "/w", "--expiretime", "180000ms", "--alivetime", "300000ms", "--verbose"];

        var parsed = DfgetCommandLine.Parse(args, context).Should().BeOfType<ParsedCommand.Server>().Subject.Invocation;
        var reference = ServerOptionsBinder.Bind(DfgetCommandLine.ParseServerWithCommandLineParser(ArgumentNormalizer.Normalize(args))!, context);

        parsed.Should().BeEquivalentTo(reference);
        parsed.Options.Port.Should().Be(15001);
        parsed.Verbose.Should().BeTrue();
    }
}
