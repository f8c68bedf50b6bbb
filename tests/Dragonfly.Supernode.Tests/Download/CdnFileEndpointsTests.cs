using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Dragonfly.Common.Rates;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Tests.Cdn;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Tests.Download;

public sealed class CdnFileEndpointsTests : IAsyncLifetime
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
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSupernodeCdn();
        builder.Services.Configure<CdnOptions>(o =>
        {
            o.HomeDir = _home.Path;
            o.MaxBandwidth = Rate.Zero;
            o.SystemBandwidth = Rate.Zero;
            o.DiskGcInterval = TimeSpan.FromHours(1);
        });
        builder.Services.AddSingleton<ICdnObserver>(_observer);
        _app = builder.Build();
        _app.MapCdnDownloads();
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
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "dragonfly_supernode_download_port_bytes_total")
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
