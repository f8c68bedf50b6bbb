using System.Text;
using Dragonfly.Dfget.App.Cli;
using Dragonfly.TestCommon;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Dfget.Tests.Cli;

/// <summary>
/// Hostile edits of a <c>dfget.yml</c> and of a <c>dragonfly.conf</c>, and hostile command lines: each command line
/// parses into a download, the uploader, version or help, or is invalid with a message (naming the file when the file is
/// at fault); nothing is thrown. A failure names the seed, the case and the input.
/// </summary>
public sealed class HostileConfigTests : IDisposable
{
    private const string Yaml = "nodes:\n  - sn1:8002\n  - sn2\nlocalLimit: 5M\nminRate: 32K\ntotalLimit: 50M\nclientQueueSize: 12\nworkHome: /data/df\nlogConfig:\n  maxSize: 10\n";
    private const string Ini = "# comment\n[node]\naddress=10.0.0.1,10.0.0.2:8003\n";

    private static readonly string[] Flags =
    [
        "-u", "--url", "-o", "--output", "-m", "--md5", "-i", "--identifier", "-f", "--filter", "--header", "-n", "--node", "-s", "--locallimit",
        "--minrate", "--totallimit", "-e", "--timeout", "-p", "--pattern", "--notbs", "--callsystem", "--cacerts", "--insecure", "--dfdaemon", "-b",
        "--showbar", "--console", "--verbose", "--home", "--ip", "--port", "--expiretime", "--alivetime", "--clientqueue", "--meta", "--data", "-h", "--help", "--",
    ];

    private static readonly string[] Values =
    [
        "http://origin.example/file", "https://o/a?b=c&d=e", "/tmp/out", "0123456789abcdef0123456789abcdef", "sign&expires", "Host: x", "sn1:8002=2,sn2",
        "20M", "64K", "30s", "5m", "p2p", "cdn", "source", "127.0.0.1", "15001", "6", "/tmp/home",
    ];

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [Trait("Category", "Fuzz")]
    [InlineData("dfget.yml", Yaml)]
    [InlineData("dragonfly.conf", Ini)]
    public async Task Parse_HostileEditsOfAConfigFile_DownloadOrInvalidNamingTheFile(string name, string valid)
    {
        var context = Context();
        var outcomes = new int[2];

        await Fuzzer.RunAsync(400, c =>
        {
            var text = ConfigFuzz.Yaml(c.Random, valid);
            File.WriteAllBytes(_temp.Combine(name), text);
            c.SetInput(text);

            switch (DfgetCommandLine.Parse(["-u", "http://origin.example/file"], context))
            {
                case ParsedCommand.Download:
                    outcomes[0]++;
                    break;
                case ParsedCommand.Invalid invalid:
                    invalid.Message.Should().Contain(name);
                    outcomes[1]++;
                    break;
                case var other:
                    throw new InvalidOperationException($"parsed as {other}");
            }
        }, member: $"Parse_HostileEditsOfAConfigFile_{name}");

        outcomes.Should().AllSatisfy(n => n.Should().BePositive("the edits reach both outcomes"));
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public Task Parse_HostileCommandLines_ACommandOrInvalidWithAMessage() => Fuzzer.RunAsync(1500, c =>
    {
        var args = ConfigFuzz.Arguments(c.Random, Flags, ["server", "version", "help", "download"], Values);
        if (c.OneIn(2))
        {
            args = ["-u", "http://origin.example/file", .. args];
        }

        c.SetInput(string.Join(' ', args.Select(a => $"'{a}'")));
        var parsed = DfgetCommandLine.Parse(args, Context());
        parsed.Should().NotBeNull();
        if (parsed is ParsedCommand.Invalid invalid)
        {
            invalid.Message.Should().NotBeNullOrWhiteSpace();
        }
    });

    private CliContext Context() => new(_temp.Path, _temp.Combine("dfget.yml"), _temp.Combine("dragonfly.conf"), () => "/home/test/.small-dragonfly");

    [Fact]
    public void Parse_UnclosedFlowMapping_IsInvalidNamingTheFileNotACrash()
    {
        // YamlDotNet throws InvalidOperationException, not YamlException, for this one (found by the supernode's edits).
        File.WriteAllText(_temp.Combine("dfget.yml"), "localLimit: {5M\nminRate: 32K\n");
        DfgetCommandLine.Parse(["-u", "http://origin.example/file"], Context()).Should().BeOfType<ParsedCommand.Invalid>()
            .Which.Message.Should().Contain("dfget.yml").And.Contain("invalid YAML");
    }

    [Fact]
    public void Parse_DeeplyNestedValue_IsInvalidNamingTheFileNotAStackOverflow()
    {
        // YamlDotNet's document model recurses once per level: 100,000 of them overflowed the stack and killed dfget.
        File.WriteAllText(_temp.Combine("dfget.yml"), "nodes: " + new string('[', 100_000));

        DfgetCommandLine.Parse(["-u", "http://origin.example/file"], Context()).Should().BeOfType<ParsedCommand.Invalid>()
            .Which.Message.Should().Contain("dfget.yml").And.Contain("nesting deeper than 64 levels");
    }

    [Fact]
    public void Parse_KeyThatIsAList_IsInvalidNamingTheFileNotACrash()
    {
        // A complex key is valid YAML; it was cast to a scalar and threw InvalidCastException out of dfget.
        File.WriteAllText(_temp.Combine("dfget.yml"), "? [a, b]\n: c\nnodes: sn1\n");

        DfgetCommandLine.Parse(["-u", "http://origin.example/file"], Context()).Should().BeOfType<ParsedCommand.Invalid>()
            .Which.Message.Should().Contain("dfget.yml").And.Contain("a key must be a plain name");
    }

    [Theory]
    [InlineData("workHome: \"/data/\\0df\"\n")]
    [InlineData("", "--home", "/data/<NUL>df")]
    [InlineData("", "--cacerts", "/etc/<NUL>ca.pem")]
    [InlineData("", "server", "--data", "/data/<NUL>df")]
    [InlineData("", "server", "--meta", "/data/<NUL>meta")]
    public void Parse_PathWithANulCharacter_IsInvalidNotACrash(string yaml, params string[] args)
    {
        // A YAML "\0" holds one; .NET's path functions threw ArgumentException out of dfget for it.
        File.WriteAllText(_temp.Combine("dfget.yml"), yaml);
        args = [.. args.Select(a => a.Replace("<NUL>", "\0", StringComparison.Ordinal))];

        var parsed = DfgetCommandLine.Parse(args.Length > 0 && args[0] == "server" ? args : ["-u", "http://origin.example/file", .. args], Context());

        parsed.Should().BeOfType<ParsedCommand.Invalid>().Which.Message.Should().Contain("NUL");
    }
}
