using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Dragonfly.Common.Http1;
using Dragonfly.TestCommon;

namespace Dragonfly.Common.Tests.Http1;

public sealed class RequestHeadReaderTests
{
    private const string Ping = "GET /server/ping HTTP/1.1\r\nHost: a\r\n\r\n";
    private const string Piece = "GET /peer/file/x HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9\r\npieceNum: 0\r\n\r\n";
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Consume_LeavesAPipelinedHeadBehindIt_ForTheNextReadAtOnce()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(Piece + Ping));
        var reader = new RequestHeadReader(pipe.Reader, Long, Long);

        var first = await reader.ReadAsync(CancellationToken.None);
        reader.Consume();
        var second = await reader.ReadAsync(CancellationToken.None).AsTask().WaitAsync(Long);

        first!.Value.Head!.Path.Should().Be("/peer/file/x");
        first.Value.Head!.Field("PIECENUM").Should().Be("0", "field names are case-insensitive");
        second!.Value.Head!.Path.Should().Be("/server/ping");
    }

    [Fact]
    public async Task Release_AfterAHeadSplitAcrossReads_GivesTheNextReaderTheWholeHeadAtOnce()
    {
        var pipe = new Pipe();
        var reader = new RequestHeadReader(pipe.Reader, Long, Long);
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("\r\n" + Piece[..20]));
        var reading = reader.ReadAsync(CancellationToken.None).AsTask();
        await Task.Delay(50);
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(Piece[20..]));
        (await reading.WaitAsync(Long))!.Value.Status.Should().Be(HeadParseStatus.Complete);

        reader.Release();
        var next = await pipe.Reader.ReadAsync().AsTask().WaitAsync(Long);

        Encoding.ASCII.GetString(next.Buffer.ToArray()).Should().Be(Piece, "the skipped empty line was consumed, the head was not");
        pipe.Reader.AdvanceTo(next.Buffer.End);
    }

    [Fact]
    public async Task Release_OfAnInvalidHead_LeavesItForTheNextReader()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("BAD\r\n\r\n"));
        var reader = new RequestHeadReader(pipe.Reader, Long, Long);

        (await reader.ReadAsync(CancellationToken.None))!.Value.Status.Should().Be(HeadParseStatus.Invalid);
        reader.Release();
        var next = await pipe.Reader.ReadAsync().AsTask().WaitAsync(Long);

        next.Buffer.Length.Should().Be(7);
        pipe.Reader.AdvanceTo(next.Buffer.End);
    }

    [Fact]
    public async Task AnIdleConnection_ReadsNull_AfterTheKeepAliveTimeout_OnTheGivenClock()
    {
        var time = new FakeTimeProvider();
        var pipe = new Pipe();
        var reader = new RequestHeadReader(pipe.Reader, TimeSpan.FromSeconds(130), TimeSpan.FromSeconds(30), time: time);

        var read = reader.ReadAsync(CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(129));
        read.IsCompleted.Should().BeFalse("the keep-alive timeout has not passed on the reader's clock");
        time.Advance(TimeSpan.FromSeconds(1));

        (await read.WaitAsync(Long)).Should().BeNull();
    }

    [Fact]
    public async Task AStartedHead_ReadsNull_AfterTheHeadersTimeout_OnTheGivenClock()
    {
        var time = new FakeTimeProvider();
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(Piece[..10]));
        var reader = new RequestHeadReader(pipe.Reader, TimeSpan.FromSeconds(130), TimeSpan.FromSeconds(60), time: time);

        // The bytes are there: the reader has seen them and waits for the rest before this returns.
        var read = reader.ReadAsync(CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(59));
        read.IsCompleted.Should().BeFalse("a started head has 60 s on the reader's clock, not the 130 s of an idle one");
        time.Advance(TimeSpan.FromSeconds(1));

        (await read.WaitAsync(Long)).Should().BeNull();
    }

    [Fact]
    public async Task ReadingAgainBeforeConsumingOrReleasing_Throws()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(Ping));
        var reader = new RequestHeadReader(pipe.Reader, Long, Long);
        await reader.ReadAsync(CancellationToken.None);

        var again = () => reader.ReadAsync(CancellationToken.None).AsTask();

        await again.Should().ThrowAsync<InvalidOperationException>();
    }
}
