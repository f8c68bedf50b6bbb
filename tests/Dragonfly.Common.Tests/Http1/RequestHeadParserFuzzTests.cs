using System.Buffers;
using System.Text;
using Dragonfly.Common.Http1;
using Dragonfly.TestCommon;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Common.Tests.Http1;

/// <summary>
/// Hostile request heads for the strict HTTP/1.x head parser of the download port, the uploader's piece path and
/// dfdaemon's CONNECT: only its three outcomes (never an exception), the statuses it documents, bounded buffering, and
/// the same answer however the bytes are cut into segments or however far they have arrived.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class RequestHeadParserFuzzTests
{
    private static readonly HttpRequestFuzz Requests = new(
        ["/download/abc/abc0000000000000000000000000000000000000000000000000000000000000", "/peer/file/a.bin-1-2.000", "/server/ping", "/"],
        ["Range: bytes=0-9", "pieceNum: 0", "pieceSize: 4194304", "User-Agent: Go-http-client/1.1", "Connection: keep-alive"]);

    [Fact]
    public Task Parse_HostileHeads_DocumentedOutcomesWhateverTheSegmentation() => Fuzzer.RunAsync(3000, c =>
    {
        var bytes = c.OneIn(10) ? FuzzText.Bytes(c.Random, 20_000) : Requests.Next(c.Random);
        c.SetInput(bytes);
        var connect = c.OneIn(3);

        var whole = RequestHeadParser.Parse(new ReadOnlySequence<byte>(bytes), connect);
        Check(whole, bytes.Length, connect);
        Describe(RequestHeadParser.Parse(Sequences.Split(bytes, c.Random), connect)).Should().Be(Describe(whole), "segments do not change the answer");
        if (whole.Status == HeadParseStatus.Complete)
        {
            var cut = c.Random.Next((int)whole.Consumed);
            RequestHeadParser.Parse(new ReadOnlySequence<byte>(bytes, 0, cut), connect).Status.Should().Be(HeadParseStatus.Incomplete, $"the head is not all there before byte {whole.Consumed} (cut at {cut})");
        }
    });

    [Fact]
    public Task TryParseAuthority_HostileTargets_ValidPortAndHostAndRoundTrip() => Fuzzer.RunAsync(5000, c =>
    {
        var text = FuzzText.Hostile(c.Random, ["example.com:443", "127.0.0.1:8080", "[::1]:443", "[fe80::1%25eth0]:1", "a-b.c:65535"], ["[", "]", ":", ".", "::", "a", "1", "65535", "65536", "0", "%", "@", "-"]);
        c.SetInput(text);
        if (!Authority.TryParse(Encoding.Latin1.GetBytes(text), out var authority))
        {
            return;
        }

        authority.Port.Should().BeInRange(1, 65535);
        authority.Host.Should().NotBeEmpty();
        var again = authority.Host.Contains(':', StringComparison.Ordinal) ? $"[{authority.Host}]:{authority.Port}" : $"{authority.Host}:{authority.Port}";
        Authority.TryParse(Encoding.ASCII.GetBytes(again), out var reparsed).Should().BeTrue(again);
        reparsed.Should().Be(authority);
    });

    /// <summary>The documented shape of each outcome.</summary>
    private static void Check(HeadParse parse, int length, bool connect)
    {
        switch (parse.Status)
        {
            case HeadParseStatus.Incomplete:
                parse.Head.Should().BeNull();
                parse.Consumed.Should().BeInRange(0, length);
                (length - parse.Consumed).Should().BeLessThanOrEqualTo(RequestHeadParser.MaxHeadBytes, "an unfinished head is refused once it is over the limit, so what is buffered stays bounded");
                break;
            case HeadParseStatus.Invalid:
                parse.Head.Should().BeNull();
                parse.ErrorStatus.Should().BeOneOf(400, 431, 505);
                parse.Error.Should().NotBeNullOrEmpty();
                break;
            case HeadParseStatus.Complete:
                var head = parse.Head!;
                parse.Consumed.Should().BeInRange(1, Math.Min(length, RequestHeadParser.MaxHeadBytes + 1000));
                head.Method.Should().NotBeEmpty().And.MatchRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$");
                if (connect && head.Method == "CONNECT")
                {
                    head.Authority.Should().NotBeNull();
                    head.Path.Should().BeEmpty();
                }
                else
                {
                    head.Path.Should().StartWith("/");
                    head.Path.Should().NotContainAny("?", "#", " ", "\0", "\r", "\n");
                }

                foreach (var (name, value) in head.Fields)
                {
                    name.Should().NotBeEmpty().And.NotContainAny(":", " ", "\r", "\n");
                    value.Should().NotContainAny("\0", "\r", "\n");
                }

                break;
            default:
                throw new InvalidOperationException($"unknown status {parse.Status}");
        }
    }

    private static string Describe(HeadParse parse) => parse.Head is { } head
        ? $"{parse.Status} {parse.Consumed} {head.Method} {head.Path} {head.Authority} {head.Http11} {head.KeepAlive} {string.Join('|', head.Fields)}"
        : $"{parse.Status} {parse.Consumed} {parse.ErrorStatus} {parse.Error}";
}
