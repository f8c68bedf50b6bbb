using System.Net;
using System.Net.Sockets;
using System.Text;
using Dragonfly.Common.Pieces;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Tests.Uploader;

/// <summary>
/// The uploader's sendfile path for pieces, on a real uploader and raw loopback sockets: pieces sent whole, in order, on
/// one connection; the hand-over to Kestrel's HTTP layer at the first request it does not serve; keep-alive rules; a
/// stalled reader dropped.
/// </summary>
public sealed class PieceConnectionMiddlewareTests : IDisposable
{
    private const int FourMiB = 4 * 1024 * 1024;
    private const string Name = "test.bin-4242-1795238008.142";
    private const string HandedOver = "handed to the HTTP layer";
    private const string SentWithSendfile = "sent with sendfile: ";

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly ListLoggerProvider _logs = new(LogLevel.Debug);
    private readonly ILoggerFactory _loggerFactory;

    public PieceConnectionMiddlewareTests() =>
        _loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(_logs));

    public void Dispose()
    {
        _loggerFactory.Dispose();
        _timeout.Dispose();
    }

    [Fact]
    public async Task PipelinedPieces_AreSentWholeAndInOrderOnOneConnection_WithoutTheHttpLayer()
    {
        await using var uploader = await StartAsync(Name, 5_000_000);

        await uploader.Stream.WriteAsync(Encoding.ASCII.GetBytes(
            UploaderTestHost.RawPieceHead(Name, "bytes=0-4194303", 0, FourMiB)
            + UploaderTestHost.RawPieceHead(Name, "bytes=4194304-8388607", 1, FourMiB)
            + UploaderTestHost.RawPieceHead(Name, "bytes=100-199", 0, FourMiB, "cdnSource: source\r\nConnection: close\r\n")), _timeout.Token);
        var first = await RawHttpResponse.ReadAsync(uploader.Stream, hasBody: true, _timeout.Token);
        var second = await RawHttpResponse.ReadAsync(uploader.Stream, hasBody: true, _timeout.Token);
        var third = await RawHttpResponse.ReadAsync(uploader.Stream, hasBody: true, _timeout.Token);

        first.Status.Should().Be(206);
        first.Headers["content-type"].Should().Be("application/octet-stream");
        PieceFrame.TryUnwrap(first.Body, out var content0).Should().BeTrue();
        content0.SequenceEqual(uploader.Source.AsSpan(0, FourMiB - 5)).Should().BeTrue();
        second.Status.Should().Be(206);
        second.Body.Should().HaveCount(805706, "the §2.4 tail piece of a 5,000,000-byte file");
        second.Body[..4].Should().Equal(0x04, 0x0c, 0x4b, 0x45);
        PieceFrame.TryUnwrap(second.Body, out var content1).Should().BeTrue();
        content1.SequenceEqual(uploader.Source.AsSpan(FourMiB - 5)).Should().BeTrue();
        third.Status.Should().Be(206);
        third.Body.Should().Equal(uploader.Source[100..200], "cdnSource: source sends the raw bytes");
        third.Headers["connection"].Should().Be("close");
        (await uploader.Stream.ReadAsync(new byte[1], _timeout.Token)).Should().Be(0, "the third request asked to close");
        uploader.Host.Server.Tasks.TryGet(Name, out var task).Should().BeTrue();
        task.BytesServed.Should().Be(FourMiB + 805706 + 100);
        _logs.Lines.Where(l => l.Contains(SentWithSendfile + "Sent", StringComparison.Ordinal)).Should().HaveCount(3);
        _logs.Lines.Should().NotContain(l => l.Contains(HandedOver, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnotherRouteAfterAPiece_IsAnsweredByTheHttpLayer_AndSoIsEveryLaterRequestOfTheConnection()
    {
        await using var uploader = await StartAsync(Name, 5_000_000);

        await uploader.Stream.WriteAsync(Encoding.ASCII.GetBytes(
            UploaderTestHost.RawPieceHead(Name, "bytes=4194304-8388607", 1, FourMiB)
            + "GET /server/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            + UploaderTestHost.RawPieceHead(Name, "bytes=4194304-8388607", 1, FourMiB, "Connection: close\r\n")), _timeout.Token);
        var piece = await RawHttpResponse.ReadAsync(uploader.Stream, hasBody: true, _timeout.Token);
        var ping = await RawHttpResponse.ReadAsync(uploader.Stream, hasBody: true, _timeout.Token);
        var again = await RawHttpResponse.ReadAsync(uploader.Stream, hasBody: true, _timeout.Token);

        piece.Status.Should().Be(206);
        ping.Status.Should().Be(200);
        Encoding.ASCII.GetString(ping.Body).Should().Be("success");
        again.Status.Should().Be(206);
        again.Body.Should().Equal(piece.Body, "both layers send the same wrapped piece");
        PieceFrame.TryUnwrap(again.Body, out var content).Should().BeTrue();
        content.SequenceEqual(uploader.Source.AsSpan(FourMiB - 5)).Should().BeTrue();
        _logs.Lines.Should().ContainSingle(l => l.Contains(HandedOver + " after 1 pieces", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("unknown-task", "bytes=0-4194303", 0, 500)]
    [InlineData(Name, "bytes=8388608-12582911", 2, 416)]
    [InlineData(Name, "bytes=0-4194303", -1, 400)]
    public async Task AnErrorFirstOnAConnection_GetsTheHttpLayersStatus(string name, string range, int pieceNum, int status)
    {
        await using var uploader = await StartAsync(Name, 5_000_000);

        await uploader.Stream.WriteAsync(Encoding.ASCII.GetBytes(UploaderTestHost.RawPieceHead(name, range, pieceNum, FourMiB)), _timeout.Token);
        var response = await RawHttpResponse.ReadAsync(uploader.Stream, hasBody: true, _timeout.Token);

        response.Status.Should().Be(status);
        _logs.Lines.Should().ContainSingle(l => l.Contains(HandedOver + " after 0 pieces", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APercentEncodedName_IsLeftToTheHttpLayer_WhichDecodesAndServesIt()
    {
        const string Spaced = "my file.bin-4242-1795238008.142";
        await using var uploader = await StartAsync(Spaced, 1000);

        await uploader.Stream.WriteAsync(Encoding.ASCII.GetBytes(UploaderTestHost.RawPieceHead(Uri.EscapeDataString(Spaced), "bytes=0-4194303", 0, FourMiB)), _timeout.Token);
        var response = await RawHttpResponse.ReadAsync(uploader.Stream, hasBody: true, _timeout.Token);

        response.Status.Should().Be(206);
        PieceFrame.TryUnwrap(response.Body, out var content).Should().BeTrue();
        content.SequenceEqual(uploader.Source).Should().BeTrue();
    }

    [Fact]
    public async Task Http10WithoutKeepAlive_GetsThePieceAndTheConnectionCloses()
    {
        await using var uploader = await StartAsync(Name, 1000);

        await uploader.Stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /peer/file/{Name} HTTP/1.0\r\nRange: bytes=0-1004\r\npieceNum: 0\r\npieceSize: {FourMiB}\r\n\r\n"), _timeout.Token);
        var response = await RawHttpResponse.ReadAsync(uploader.Stream, hasBody: true, _timeout.Token);

        response.Status.Should().Be(206);
        response.Headers["connection"].Should().Be("close");
        PieceFrame.TryUnwrap(response.Body, out var content).Should().BeTrue();
        content.SequenceEqual(uploader.Source).Should().BeTrue();
        (await uploader.Stream.ReadAsync(new byte[1], _timeout.Token)).Should().Be(0);
        _logs.Lines.Should().ContainSingle(l => l.Contains(SentWithSendfile + "Sent", StringComparison.Ordinal));
        _logs.Lines.Should().NotContain(l => l.Contains(HandedOver, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AReaderThatStopsReading_IsDroppedAfterTheStallTimeout_AndThePieceCountsAsFailed()
    {
        const int Piece = 16 * 1024 * 1024;
        await using var host = await UploaderTestHost.StartAsync(o => o with { SendStallTimeout = TimeSpan.FromSeconds(1) }, loggerFactory: _loggerFactory);
        await host.AddTaskAsync(Name, Piece - PieceFrame.Overhead);
        _logs.Lines.Clear(); // the /check/ connection was handed to the HTTP layer
        // The kernel's buffers take a few MiB; the rest waits for a reader that does not come (stall timeout 1 s here).
        var received = await StalledReader.SendAndStallAsync(
            host.Port, UploaderTestHost.RawPieceHead(Name, $"bytes=0-{Piece - 1}", 0, Piece), TimeSpan.FromSeconds(4), _timeout.Token);

        received.Should().BeGreaterThan(0).And.BeLessThan(Piece, "the uploader gave up on the stalled piece and closed the connection");
        _logs.Lines.Should().Contain(l => l.Contains(SentWithSendfile + "Stalled", StringComparison.Ordinal));
    }

    /// <summary>An uploader serving one task of <paramref name="length"/> random bytes, and a raw connection to it.</summary>
    private async Task<RawUploader> StartAsync(string name, int length)
    {
        var host = await UploaderTestHost.StartAsync(loggerFactory: _loggerFactory);
        var source = await host.AddTaskAsync(name, length);
        _logs.Lines.Clear(); // the /check/ connection was handed to the HTTP layer
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, host.Port, _timeout.Token);
        return new RawUploader(host, source, new NetworkStream(socket, ownsSocket: true));
    }

    private sealed record RawUploader(UploaderTestHost Host, byte[] Source, NetworkStream Stream) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Stream.DisposeAsync();
            await Host.DisposeAsync();
        }
    }
}
