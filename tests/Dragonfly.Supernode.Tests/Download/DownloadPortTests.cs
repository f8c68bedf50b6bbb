using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Dragonfly.Common.Rates;
using Dragonfly.Supernode.Download;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Metrics;
using Dragonfly.Supernode.Tests.Cdn;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Tests.Download;

/// <summary>
/// The download port end to end: a real Kestrel endpoint running <c>DownloadPortConnectionHandler</c> on loopback, the
/// real CDN filling from a real origin, and HttpClient or a raw socket as the client.
/// </summary>
public sealed class DownloadPortTests : IAsyncLifetime
{
    private const int Ps = 4 * 1024 * 1024;
    private const long TenMiB = 10L * 1024 * 1024;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly TempDirectory _home = new("cdn-port-");
    private readonly RecordingCdnObserver _observer = new();
    private readonly HttpClient _http = new();
    private OriginServer _origin = null!;
    private WebApplication _app = null!;

    public async Task InitializeAsync()
    {
        _origin = await OriginServer.StartAsync(_timeout.Token);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, 0, listen => listen.UseDownloadPort());
            o.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(2);
            o.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(1);
        });
        builder.Services.AddSupernodeCdn();
        builder.Services.AddSupernodeDownloadPort();
        builder.Services.AddSingleton<SupernodeApiMetrics>();
        builder.Services.Configure<DownloadPortOptions>(o => o.SendStallTimeout = TimeSpan.FromSeconds(1));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(2));
        builder.Services.Configure<CdnOptions>(o =>
        {
            o.HomeDir = _home.Path;
            o.MaxBandwidth = Rate.Zero;
            o.SystemBandwidth = Rate.Zero;
            o.DiskGcInterval = TimeSpan.FromHours(1);
        });
        builder.Services.AddSingleton<ICdnObserver>(_observer);
        _app = builder.Build();
        await _app.StartAsync(_timeout.Token);
        _http.BaseAddress = new Uri(_app.Urls.First());
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _origin.DisposeAsync();
        _home.Dispose();
        _timeout.Dispose();
    }

    [Fact]
    public async Task Get_CompleteFile_ServesWholeFileRangesAndCountsBytes()
    {
        var (spec, path) = await CachedAsync("/test.bin", TenMiB);
        var data = await File.ReadAllBytesAsync(_app.Services.GetRequiredService<Supernode.Storage.IPieceStore>().DataPath(spec.TaskId));
        long counted = 0;
        var meters = _app.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this app's counter: the other test classes' supernodes run in parallel in this process.
            if (instrument.Name == "dragonfly_supernode_download_port_bytes_total" && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        listener.Start();

        using (var whole = await _http.GetAsync(path, _timeout.Token))
        {
            whole.StatusCode.Should().Be(HttpStatusCode.OK);
            whole.Headers.AcceptRanges.Should().Contain("bytes");
            (await whole.Content.ReadAsByteArrayAsync(_timeout.Token)).Should().Equal(data);
        }

        using (var piece = await SendAsync(HttpMethod.Get, path, "bytes=4194304-8388607"))
        {
            piece.StatusCode.Should().Be(HttpStatusCode.PartialContent);
            piece.Content.Headers.ContentRange!.ToString().Should().Be("bytes 4194304-8388607/10485775");
            (await piece.Content.ReadAsByteArrayAsync(_timeout.Token)).Should().Equal(data[Ps..(2 * Ps)]);
        }

        using (var last = await SendAsync(HttpMethod.Get, path, "bytes=8388608-12582911"))
        {
            last.StatusCode.Should().Be(HttpStatusCode.PartialContent);
            last.Content.Headers.ContentRange!.ToString().Should().Be("bytes 8388608-10485774/10485775");
            (await last.Content.ReadAsByteArrayAsync(_timeout.Token)).Should().Equal(data[(2 * Ps)..]);
        }

        using (var suffix = await SendAsync(HttpMethod.Get, path, "bytes=-5"))
        {
            suffix.StatusCode.Should().Be(HttpStatusCode.PartialContent);
            (await suffix.Content.ReadAsByteArrayAsync(_timeout.Token)).Should().Equal(data[^5..]);
        }

        listener.RecordObservableInstruments();
        Interlocked.Read(ref counted).Should().Be(data.Length + Ps + (data.Length - (2 * Ps)) + 5);
    }

    [Fact]
    public async Task Get_RangeBeyondTheFile_416WithTheLength()
    {
        var (_, path) = await CachedAsync("/test.bin", 1000);

        using var response = await SendAsync(HttpMethod.Get, path, "bytes=4194304-8388607");

        response.StatusCode.Should().Be(HttpStatusCode.RequestedRangeNotSatisfiable);
        response.Content.Headers.ContentRange!.ToString().Should().Be("bytes */1005");
    }

    [Fact]
    public async Task Head_Piece_HeadersWithoutBody()
    {
        var (_, path) = await CachedAsync("/test.bin", 1000);

        using var response = await SendAsync(HttpMethod.Head, path, "bytes=0-99");

        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        response.Content.Headers.ContentLength.Should().Be(100);
        (await response.Content.ReadAsByteArrayAsync(_timeout.Token)).Should().BeEmpty();
    }

    [Theory]
    [InlineData("wrongshard")]
    [InlineData("uppercase")]
    [InlineData("short")]
    [InlineData("unknown")]
    [InlineData("traversal")]
    public async Task Get_InvalidOrUnknownPath_404(string kind)
    {
        var (spec, _) = await CachedAsync("/test.bin", 1000);
        var id = spec.TaskId.Value;
        var path = kind switch
        {
            "wrongshard" => $"/download/abc/{id}",
            "uppercase" => $"/download/{id[..3].ToUpperInvariant()}/{id.ToUpperInvariant()}",
            "short" => $"/download/{id[..3]}/{id[..63]}",
            "unknown" => $"/download/fff/{new string('f', 64)}",
            _ => $"/download/{id[..3]}/..%2F..%2F{id}",
        };

        using var response = await _http.GetAsync(path, _timeout.Token);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_WhileTheCdnIsStillWriting_ServesOnlyCompletePieces()
    {
        var file = _origin.AddFile("/slow.bin", TenMiB);
        file.HoldAfterBytes = Ps + 10;
        var spec = CdnTestHarness.Spec(_origin.Url("/slow.bin"), TenMiB);
        var mgr = _app.Services.GetRequiredService<CDNMgr>();
        var run = mgr.TriggerAsync(spec);
        await _observer.FirstPiece.WaitAsync(_timeout.Token);
        var path = $"/download/{spec.TaskId.Shard}/{spec.TaskId.Value}";

        using (var ready = await SendAsync(HttpMethod.Get, path, "bytes=0-4194303"))
        {
            ready.StatusCode.Should().Be(HttpStatusCode.PartialContent);
            ready.Content.Headers.ContentRange!.ToString().Should().Be("bytes 0-4194303/*");
            (await ready.Content.ReadAsByteArrayAsync(_timeout.Token)).Length.Should().Be(Ps);
        }

        using (var writing = await SendAsync(HttpMethod.Get, path, "bytes=4194304-8388607"))
        {
            writing.StatusCode.Should().Be(HttpStatusCode.RequestedRangeNotSatisfiable);
            writing.Content.Headers.ContentRange!.ToString().Should().Be("bytes */4194304");
        }

        using (var whole = await _http.GetAsync(path, _timeout.Token))
        {
            whole.StatusCode.Should().Be(HttpStatusCode.NotFound);
        }

        file.Release();
        (await run.WaitAsync(_timeout.Token)).Success.Should().BeTrue();
        using var after = await SendAsync(HttpMethod.Get, path, "bytes=4194304-8388607");
        after.StatusCode.Should().Be(HttpStatusCode.PartialContent);
    }

    [Fact]
    public async Task Get_AfterRestartWithoutTrigger_ServesAFinishedCacheFromItsMetadata()
    {
        var (spec, path) = await CachedAsync("/test.bin", 1000);
        await _app.Services.GetRequiredService<ICDNMgr>().DeleteAsync(spec.TaskId, deleteFiles: false, _timeout.Token);

        using var response = await SendAsync(HttpMethod.Get, path, "bytes=0-4");

        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        response.Content.Headers.ContentRange!.ToString().Should().Be("bytes 0-4/1005");
    }

    [Fact]
    public async Task Raw_PipelinedRequests_AreAnsweredInOrderOnOneConnection()
    {
        var (spec, path) = await CachedAsync("/test.bin", 1000);
        var data = await File.ReadAllBytesAsync(_app.Services.GetRequiredService<Supernode.Storage.IPieceStore>().DataPath(spec.TaskId));
        using var socket = await ConnectAsync();
        await using var stream = new NetworkStream(socket);

        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET {path} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n" +
            $"HEAD {path} HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\n\r\n" +
            $"GET {path}?ignored=1 HTTP/1.1\r\nHost: x\r\nRange: bytes=990-\r\nConnection: close\r\n\r\n"), _timeout.Token);

        var first = await RawHttpResponse.ReadAsync(stream, hasBody: true, _timeout.Token);
        var second = await RawHttpResponse.ReadAsync(stream, hasBody: false, _timeout.Token);
        var third = await RawHttpResponse.ReadAsync(stream, hasBody: true, _timeout.Token);
        first.Status.Should().Be(206);
        first.Body.Should().Equal(data[..10]);
        second.Status.Should().Be(206);
        second.Headers["content-length"].Should().Be("10");
        second.Headers["content-range"].Should().Be("bytes 10-19/1005");
        third.Status.Should().Be(206);
        third.Headers["connection"].Should().Be("close");
        third.Body.Should().Equal(data[990..]);
        (await stream.ReadAsync(new byte[1], _timeout.Token)).Should().Be(0, "the server closes after Connection: close");
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n", 400)]
    [InlineData("GET /download/x/y HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET /download/x/y HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)]
    [InlineData("GET /download/x/y HTTP/2.0\r\nHost: a\r\n\r\n", 505)]
    [InlineData("GET /download/x/y HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 400)]
    [InlineData("GET /download/x/y HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400)]
    [InlineData("GET /download/x/y HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)]
    [InlineData("GET /download/x/y HTTP/1.1\r\nHost : a\r\n\r\n", 400)]
    [InlineData("GET /download/x/y HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400)]
    [InlineData("GET /download/x/y HTTP/1.1\r\nHost: a\r\nX: a\u0001b\r\n\r\n", 400)]
    [InlineData("GET download/x/y HTTP/1.1\r\nHost: a\r\n\r\n", 400)]
    [InlineData("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", 400)]
    [InlineData("GET /download/../../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", 404)]
    [InlineData("POST /download/abc/def HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 404)]
    public async Task Raw_HostileOrMalformedRequests_GetAClearStatus(string request, int status)
    {
        using var socket = await ConnectAsync();
        await using var stream = new NetworkStream(socket);

        await stream.WriteAsync(Encoding.Latin1.GetBytes(request), _timeout.Token);
        var response = await RawHttpResponse.ReadAsync(stream, hasBody: true, _timeout.Token);

        response.Status.Should().Be(status);
        response.Headers["content-length"].Should().Be("0");
        if (status != 404)
        {
            response.Headers["connection"].Should().Be("close");
            (await stream.ReadAsync(new byte[1], _timeout.Token)).Should().Be(0, "a request the port rejects ends the connection");
        }
    }

    [Fact]
    public async Task Raw_OversizedHead_431AndClosed()
    {
        using var socket = await ConnectAsync();
        await using var stream = new NetworkStream(socket);

        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /download/x/y HTTP/1.1\r\nHost: a\r\nX: " + new string('a', 20_000) + "\r\n\r\n"), _timeout.Token);
        var response = await RawHttpResponse.ReadAsync(stream, hasBody: true, _timeout.Token);

        response.Status.Should().Be(431);
        (await ReadToEndAsync(stream)).Should().Be(0);
    }

    [Fact]
    public async Task Raw_OtherMethodOnAPiece_405WithAllow()
    {
        var (_, path) = await CachedAsync("/test.bin", 1000);
        using var socket = await ConnectAsync();
        await using var stream = new NetworkStream(socket);

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"DELETE {path} HTTP/1.1\r\nHost: a\r\n\r\n"), _timeout.Token);
        var response = await RawHttpResponse.ReadAsync(stream, hasBody: true, _timeout.Token);

        response.Status.Should().Be(405);
        response.Headers["allow"].Should().Be("GET, HEAD");
    }

    [Fact]
    public async Task Raw_AbsoluteFormAndHttp10_ServedAndClosedUnlessKeptAlive()
    {
        var (_, path) = await CachedAsync("/test.bin", 1000);
        var port = new Uri(_app.Urls.First()).Port;
        using var socket = await ConnectAsync();
        await using var stream = new NetworkStream(socket);

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://127.0.0.1:{port}{path} HTTP/1.0\r\nConnection: keep-alive\r\nRange: bytes=0-4\r\n\r\n"), _timeout.Token);
        var kept = await RawHttpResponse.ReadAsync(stream, hasBody: true, _timeout.Token);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nRange: bytes=5-9\r\n\r\n"), _timeout.Token);
        var closed = await RawHttpResponse.ReadAsync(stream, hasBody: true, _timeout.Token);

        kept.Status.Should().Be(206);
        kept.Headers["connection"].Should().Be("keep-alive");
        closed.Status.Should().Be(206);
        closed.Body.Length.Should().Be(5);
        closed.Headers["connection"].Should().Be("close");
        (await ReadToEndAsync(stream)).Should().Be(0);
    }

    [Fact]
    public async Task Raw_HeadThatNeverEnds_ConnectionClosedAfterTheHeadersTimeout()
    {
        using var socket = await ConnectAsync();
        await using var stream = new NetworkStream(socket);

        // A bare-LF head never completes as CRLF; neither does a slow client's. RequestHeadersTimeout is 1 s here.
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /download/x/y HTTP/1.1\nHost: a\n\n"), _timeout.Token);

        (await ReadToEndAsync(stream)).Should().Be(0, "the server gives up on the head and closes without a response");
    }

    [Fact]
    public async Task Raw_IdleConnection_ClosedAfterTheKeepAliveTimeout()
    {
        using var socket = await ConnectAsync();
        await using var stream = new NetworkStream(socket);

        (await ReadToEndAsync(stream)).Should().Be(0, "KeepAliveTimeout is 2 s here");
    }

    [Fact]
    public async Task Get_DataFileShorterThanTheRange_404NotAShortBody()
    {
        var (spec, path) = await CachedAsync("/test.bin", 1000);
        _app.Services.GetRequiredService<Supernode.Storage.IPieceStore>().Truncate(spec.TaskId, 100);

        using var response = await SendAsync(HttpMethod.Get, path, "bytes=0-999");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Raw_ReaderThatStopsReading_IsDroppedAfterTheStallTimeout()
    {
        var (_, path) = await CachedAsync("/big.bin", 64L * 1024 * 1024);
        // The kernel's buffers take a few MiB; the rest waits for a reader that does not come (stall timeout 1 s here).
        var received = await StalledReader.SendAndStallAsync(
            new Uri(_app.Urls.First()).Port, $"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n", TimeSpan.FromSeconds(4), _timeout.Token);

        received.Should().BeGreaterThan(0).And.BeLessThan(64L * 1024 * 1024, "the server gave up on the stalled body and closed the connection");
    }

    [Fact]
    public async Task Stop_WithAnIdleKeepAliveConnection_ClosesItAtOnce()
    {
        var (_, path) = await CachedAsync("/test.bin", 1000);
        using var socket = await ConnectAsync();
        await using var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9\r\n\r\n"), _timeout.Token);
        (await RawHttpResponse.ReadAsync(stream, hasBody: true, _timeout.Token)).Status.Should().Be(206);

        var stopping = _app.StopAsync(_timeout.Token);
        using var soon = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token);
        soon.CancelAfter(TimeSpan.FromSeconds(20));

        // Shutdown waits up to 2 minutes for busy connections here; an idle one (the handler waiting for a head) must
        // not make it wait. Kestrel's stop completes the connection's input, and the handler must end on that.
        (await stream.ReadAsync(new byte[1], soon.Token)).Should().Be(0);
        await stopping.WaitAsync(soon.Token);
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, new Uri(_app.Urls.First()).Port, _timeout.Token);
        return socket;
    }

    /// <summary>Bytes read until the server closes (0 when it sent nothing more).</summary>
    private async Task<int> ReadToEndAsync(NetworkStream stream)
    {
        var total = 0;
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, _timeout.Token)) > 0)
        {
            total += read;
        }

        return total;
    }

    private async Task<(CdnTaskSpec Spec, string Path)> CachedAsync(string name, long length)
    {
        _origin.AddFile(name, length, seed: 6);
        var spec = CdnTestHarness.Spec(_origin.Url(name), length);
        var result = await _app.Services.GetRequiredService<CDNMgr>().TriggerAsync(spec).WaitAsync(_timeout.Token);
        result.Success.Should().BeTrue(result.Error);
        return (spec, $"/download/{spec.TaskId.Shard}/{spec.TaskId.Value}");
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string range)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Range = RangeHeaderValue.Parse(range);
        return _http.SendAsync(request, _timeout.Token);
    }
}
