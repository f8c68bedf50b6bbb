using System.Reflection;
using CommandLine;
using Dragonfly.Dfget.App.Cli;

namespace Dragonfly.Dfget.Tests.Cli;

public sealed class DownloadFlagsFastPathTests
{
    private const string Url = "http://127.0.0.1:8000/dir/test.bin?sign=abc&x=1";

    [Fact]
    public void Flags_MatchTheDownloadVerbAttributes()
    {
        var expected = new Dictionary<string, (DownloadFlagsFastPath.Kind, string)>(StringComparer.Ordinal);
        foreach (var property in typeof(DownloadVerb).GetProperties())
        {
            var option = property.GetCustomAttribute<OptionAttribute>();
            option.Should().NotBeNull($"{property.Name} is a flag");
            var kind = property.PropertyType == typeof(bool) ? DownloadFlagsFastPath.Kind.Switch
                : property.PropertyType == typeof(string) ? DownloadFlagsFastPath.Kind.Value
                : property.PropertyType == typeof(IEnumerable<string>) ? DownloadFlagsFastPath.Kind.List
                : throw new Xunit.Sdk.XunitException($"unexpected flag type {property.PropertyType} of {property.Name}");
            expected["--" + option!.LongName] = (kind, property.Name);
            if (!string.IsNullOrEmpty(option.ShortName))
            {
                expected["-" + option.ShortName] = (kind, property.Name);
            }
        }

        DownloadFlagsFastPath.Flags.Should().BeEquivalentTo(expected);
    }

    [Theory]
    [InlineData("-u", Url)]
    [InlineData("--url", Url, "-o", "out/f.bin", "--home", "/w", "--ip", "127.0.0.1", "-n", "127.0.0.1:8002")]
    [InlineData("--url=" + Url, "--output=f", "--md5=0123456789abcdef0123456789abcdef", "--node=a,b", "--header=X-A: 1")]
    [InlineData("-u", Url, "-o", "f", "-m", "0123456789abcdef0123456789abcdef", "-i", "id", "-f", "sign&x", "-n", "n1", "-s", "1M", "-e", "30s", "-p", "source", "-b")]
    [InlineData(
        "--url", Url, "--output", "out/file.bin", "--md5", "0123456789abcdef0123456789abcdef", "--identifier", "v2",
        "--filter", "sign&expires", "--header", "Authorization: Bearer x", "--header", "X-A: 1", "--node", "a:8002=2,b=4",
        "--locallimit", "10M", "--minrate", "128K", "--totallimit", "1G", "--timeout", "1m30s", "--pattern", "cdn", "--notbs",
        "--callsystem", "tester", "--cacerts", "ca.pem", "--insecure", "--dfdaemon", "--showbar", "--console", "--verbose",
        "--home", "work", "--ip", "10.0.0.7", "--port", "15001", "--expiretime", "10m", "--alivetime", "1h", "--clientqueue", "9")]
    [InlineData("-u", Url, "-n", "a", "--header", "K: v", "-n", "b", "--cacerts", "x.pem", "--header", "L: w", "--node", "c")]
    [InlineData("-u", Url, "--notbs=true", "--insecure=false", "--verbose=1", "--console=T")]
    [InlineData("-u", Url, "-o", "  ", "-s", "0", "--clientqueue", "0", "-p", "P2P")]
    [InlineData("-o", "only-output")]
    [InlineData("-u", "notaurl", "--port", "70000", "--ip", "::1")]
    public void TryParse_PlainForms_AgreeWithCommandLineParser(params string[] args)
    {
        var normalized = ArgumentNormalizer.Normalize(args);

        var fast = DownloadFlagsFastPath.TryParse(normalized);
        var reference = DfgetCommandLine.ParseDownloadWithCommandLineParser(normalized);

        fast.Should().NotBeNull();
        reference.Should().NotBeNull();
        fast.Should().BeEquivalentTo(reference);
    }

    [Theory]
    [InlineData]
    [InlineData("download", "-u", Url)]
    [InlineData("server", "--port", "1")]
    [InlineData("version")]
    [InlineData("help")]
    [InlineData("-u", Url, "--version")]
    [InlineData("-u", Url, "--bogus")]
    [InlineData("-u", Url, "-x")]
    [InlineData("-u")]
    [InlineData("-u", Url, "-o")]
    [InlineData("-u", Url, "-u", Url)]
    [InlineData("-u", Url, "--url=" + Url)]
    [InlineData("-u", Url, "--notbs", "--notbs")]
    [InlineData("-u", Url, "--notbs=yes")]
    [InlineData("-u", Url, "--notbs", "true")]
    [InlineData("-u" + Url)]
    [InlineData("-bu", Url)]
    [InlineData("-u", Url, "--minrate", "-3")]
    [InlineData("-u", Url, "--port", "-1")]
    [InlineData("-u", Url, "-o", "")]
    [InlineData("-u", Url, "--output=")]
    [InlineData("-u", Url, "--header", "-X: y")]
    [InlineData("-u", Url, "-n", "")]
    [InlineData("-u", Url, "stray")]
    [InlineData("-u", Url, "--", "rest")]
    [InlineData("-u", Url, "-")]
    [InlineData("--URL", Url)]
    public void TryParse_UnusualForms_AreLeftToCommandLineParser(params string[] args)
    {
        DownloadFlagsFastPath.TryParse(ArgumentNormalizer.Normalize(args)).Should().BeNull();
    }
}
