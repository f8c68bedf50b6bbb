using System.Buffers;
using System.Text;
using Dragonfly.Common.Http1;
using Dragonfly.TestCommon;

namespace Dragonfly.Common.Tests.Http1;

public sealed class RequestHeadParserTests
{
    [Fact]
    public void Parse_AHeadSplitAcrossSegments_IsIncompleteUntilItsEndThenComplete()
    {
        const string Head = "GET /download/abc/def?x=1 HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9\r\nUser-Agent: Go-http-client/1.1\r\n\r\n";

        RequestHeadParser.Parse(Sequence(Head[..20])).Status.Should().Be(HeadParseStatus.Incomplete);
        RequestHeadParser.Parse(Sequence(Head[..^2])).Status.Should().Be(HeadParseStatus.Incomplete);
        var parse = RequestHeadParser.Parse(Sequence(Head[..30], Head[30..70], Head[70..] + "GET /next"));

        parse.Status.Should().Be(HeadParseStatus.Complete);
        parse.Consumed.Should().Be(Head.Length, "the next pipelined request starts right after the head");
        parse.Head.Should().BeEquivalentTo(new
        {
            Method = "GET",
            Path = "/download/abc/def",
            Http11 = true,
            KeepAlive = true,
            Range = "bytes=0-9",
            Fields = new[] { KeyValuePair.Create("Range", "bytes=0-9"), KeyValuePair.Create("User-Agent", "Go-http-client/1.1") },
        });
    }

    [Fact]
    public void Parse_LeadingEmptyLines_AreSkippedAndConsumed()
    {
        RequestHeadParser.Parse(Sequence("\r\n\r\n")).Should().Be(HeadParse.Incomplete(4));
        var parse = RequestHeadParser.Parse(Sequence("\r\nHEAD / HTTP/1.0\r\n\r\n"));

        parse.Status.Should().Be(HeadParseStatus.Complete);
        parse.Consumed.Should().Be(21);
        parse.Head!.KeepAlive.Should().BeFalse("HTTP/1.0 closes unless it asks for keep-alive");
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, Close\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.0\r\n\r\n", false)]
    public void Parse_Connection_DecidesKeepAlive(string head, bool keepAlive) =>
        RequestHeadParser.Parse(Sequence(head)).Head!.KeepAlive.Should().Be(keepAlive);

    [Theory]
    [InlineData("CONNECT registry.example:443 HTTP/1.1\r\nHost: registry.example:443\r\n\r\n", "registry.example", 443)]
    [InlineData("CONNECT 10.0.0.1:65535 HTTP/1.1\r\n\r\n", "10.0.0.1", 65535)]
    [InlineData("CONNECT [::1]:8443 HTTP/1.0\r\n\r\n", "::1", 8443)]
    public void Parse_ConnectWithAuthorityForm_NamesHostAndPortAndNoPath(string head, string host, int port)
    {
        var parse = RequestHeadParser.Parse(Sequence(head), acceptConnect: true);

        parse.Status.Should().Be(HeadParseStatus.Complete, "CONNECT's target is the authority, and it may come without Host");
        parse.Head!.Method.Should().Be("CONNECT");
        parse.Head.Authority.Should().Be(new Authority(host, port));
        parse.Head.Path.Should().BeEmpty();
    }

    [Theory]
    [InlineData("CONNECT registry.example HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT registry.example: HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT registry.example:0 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT registry.example:65536 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT registry.example:+443 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT user@registry.example:443 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT registry.example:443/x HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT /registry.example:443 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT http://registry.example:443/ HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT [::1:443 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT [10.0.0.1]:443 HTTP/1.1\r\n\r\n")]
    [InlineData("GET registry.example:443 HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n")]
    public void Parse_AuthorityFormOutsideConnectOrMalformed_Is400(string head)
    {
        var parse = RequestHeadParser.Parse(Sequence(head), acceptConnect: true);

        parse.Status.Should().Be(HeadParseStatus.Invalid);
        parse.ErrorStatus.Should().Be(400);
    }

    [Fact]
    public void Parse_ConnectWhereTheServerTakesNone_Is400AsATargetThatIsNotAPath()
    {
        var parse = RequestHeadParser.Parse(Sequence("CONNECT registry.example:443 HTTP/1.1\r\nHost: registry.example:443\r\n\r\n"));

        parse.Status.Should().Be(HeadParseStatus.Invalid);
        parse.ErrorStatus.Should().Be(400);
        parse.Error.Should().Be("request target is not a path");
    }

    [Fact]
    public void Parse_TwoRangeHeaders_AreTreatedAsNoRange() =>
        RequestHeadParser.Parse(Sequence("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nrange: bytes=2-3\r\n\r\n")).Head!.Range.Should().BeNull();

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", true, 0)]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n", false, 400)]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", false, 400)]
    [InlineData("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", false, 400)]
    [InlineData("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", false, 400)]
    [InlineData("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", false, 400)]
    [InlineData("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", false, 400)]
    [InlineData("GET * HTTP/1.1\r\nHost: a\r\n\r\n", false, 400)]
    [InlineData("GET / HTTP/3.0\r\nHost: a\r\n\r\n", false, 505)]
    [InlineData("GET / HTTX/1.1\r\nHost: a\r\n\r\n", false, 400)]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", false, 400)]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX: \u007f\r\n\r\n", false, 400)]
    public void Parse_Edges(string head, bool complete, int error)
    {
        var parse = RequestHeadParser.Parse(Sequence(head));

        parse.Status.Should().Be(complete ? HeadParseStatus.Complete : HeadParseStatus.Invalid);
        parse.ErrorStatus.Should().Be(error);
    }

    [Fact]
    public void Parse_TooManyFieldsOrBytes_431()
    {
        var many = "GET / HTTP/1.1\r\nHost: a\r\n" + string.Concat(Enumerable.Range(0, RequestHeadParser.MaxHeaderCount).Select(i => $"X{i}: y\r\n")) + "\r\n";
        RequestHeadParser.Parse(Sequence(many)).ErrorStatus.Should().Be(431);

        var endless = "GET / HTTP/1.1\r\nX: " + new string('a', RequestHeadParser.MaxHeadBytes);
        RequestHeadParser.Parse(Sequence(endless)).ErrorStatus.Should().Be(431, "a head that cannot end within the limit is refused before it ends");
    }

    private static ReadOnlySequence<byte> Sequence(params string[] parts) =>
        Sequences.Of([.. parts.Select(p => (ReadOnlyMemory<byte>)Encoding.Latin1.GetBytes(p))]);
}
