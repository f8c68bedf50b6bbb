using System.Buffers;
using System.IO.Pipelines;
using Dragonfly.Common.Http1;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Common.Tests.Http1;

/// <summary>
/// Pipelined hostile heads arriving in random pieces through a pipe: the reader yields exactly the heads the parser finds
/// in the whole input, in order, ends when the input does, and a released head is read again, whole, by the next
/// reader (the uploader's hand-over to Kestrel).
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class RequestHeadReaderFuzzTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private static readonly HttpRequestFuzz Requests = new(["/peer/file/a.bin-1-2.000", "/download/abc/x", "/"], ["Range: bytes=0-9", "pieceNum: 0"]);

    [Fact]
    public Task ReadAsync_PipelinedHostileHeadsInRandomPieces_YieldsWhatTheParserFinds() => Fuzzer.RunAsync(600, async c =>
    {
        var bytes = Enumerable.Range(0, c.Random.Next(1, 5)).SelectMany(_ => Requests.Next(c.Random)).ToArray();
        c.SetInput(bytes);
        var connect = c.OneIn(3);
        var expected = Expected(bytes, connect);
        var pipe = new Pipe();
        var writing = WriteInPiecesAsync(pipe.Writer, bytes, c.Random.Next(), c.CancellationToken);

        var actual = new List<string>();
        var reader = new RequestHeadReader(pipe.Reader, Long, Long, connect);
        while (await reader.ReadAsync(c.CancellationToken) is { } parse)
        {
            actual.Add(Describe(parse));
            if (c.OneIn(3))
            {
                reader.Release();
                reader = new RequestHeadReader(pipe.Reader, Long, Long, connect);
                var again = await reader.ReadAsync(c.CancellationToken);
                again.Should().NotBeNull("a released head is still there for the next reader");
                Describe(again!.Value).Should().Be(actual[^1], "the next reader reads the released head again");
            }

            if (parse.Status == HeadParseStatus.Invalid)
            {
                break;
            }

            reader.Consume();
        }

        await pipe.Reader.CompleteAsync();
        await writing;
        actual.Should().Equal(expected);
    });

    /// <summary>The heads the parser finds in the whole input, up to the first invalid one.</summary>
    private static List<string> Expected(byte[] bytes, bool connect)
    {
        var found = new List<string>();
        var position = 0L;
        while (true)
        {
            var parse = RequestHeadParser.Parse(new ReadOnlySequence<byte>(bytes).Slice(position), connect);
            if (parse.Status == HeadParseStatus.Incomplete)
            {
                return found;
            }

            found.Add(Describe(parse));
            if (parse.Status == HeadParseStatus.Invalid)
            {
                return found;
            }

            position += parse.Consumed;
        }
    }

    private static async Task WriteInPiecesAsync(PipeWriter writer, byte[] bytes, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        for (var at = 0; at < bytes.Length;)
        {
            var n = Math.Min(bytes.Length - at, random.Next(4) == 0 ? random.Next(1, 8) : random.Next(1, 4000));
            await writer.WriteAsync(bytes.AsMemory(at, n), cancellationToken);
            at += n;
            if (random.Next(4) == 0)
            {
                await Task.Yield();
            }
        }

        await writer.CompleteAsync();
    }

    private static string Describe(HeadParse parse) => parse.Head is { } head
        ? $"{parse.Status} {head.Method} {head.Path} {head.Authority} {string.Join('|', head.Fields)}"
        : $"{parse.Status} {parse.ErrorStatus}";
}
