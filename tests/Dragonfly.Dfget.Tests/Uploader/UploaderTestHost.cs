using System.Net;
using System.Net.Sockets;
using System.Text;
using Dragonfly.Dfget.Uploader;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.Uploader;

/// <summary>
/// An in-process uploader on 127.0.0.1:&lt;ephemeral&gt; over a temp work home, plus clients for it: <see cref="Client"/> for
/// the local routes (<c>/check/</c>, <c>/rate/</c>, ...) and <see cref="PieceClient"/> for pieces, on connections of its
/// own as a remote peer's are, so piece requests reach the uploader's sendfile path first.
/// </summary>
internal sealed class UploaderTestHost : IAsyncDisposable
{
    private UploaderTestHost(TempDirectory temp, PeerServer server, UploaderOptions options)
    {
        Temp = temp;
        Server = server;
        Options = options;
        Client = NewClient(server.Port);
        PieceClient = NewClient(server.Port);
    }

    public TempDirectory Temp { get; }

    public PeerServer Server { get; }

    public UploaderOptions Options { get; }

    public HttpClient Client { get; }

    public HttpClient PieceClient { get; }

    public string DataDir => Options.DataDirs[0];

    public int Port => Server.Port;

    public static async Task<UploaderTestHost> StartAsync(
        Func<UploaderOptions, UploaderOptions>? configure = null,
        TimeProvider? time = null,
        IServiceDownReporter? reporter = null,
        System.Diagnostics.Metrics.IMeterFactory? meters = null,
        Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        var temp = new TempDirectory("dfget-uploader-");
        var data = temp.Combine("data");
        Directory.CreateDirectory(data);
        var options = new UploaderOptions
        {
            BindAddress = IPAddress.Loopback,
            UseEphemeralPort = true,
            DataDirs = [data],
            HostMetaPath = temp.Combine("meta", "host.meta"),
            LockPath = temp.Combine("meta", "uploader.lock"),
        };
        options = configure?.Invoke(options) ?? options;
        var server = new PeerServer(options, loggerFactory ?? NullLoggerFactory.Instance, time, reporter, meters);
        await server.StartAsync(CancellationToken.None);
        return new UploaderTestHost(temp, server, options);
    }

    /// <summary>Writes <c>data/&lt;name&gt;.service</c> and registers the task through <c>/check/</c>.</summary>
    public async Task<byte[]> AddTaskAsync(string name, int length, long totalLimit = 0)
    {
        var content = new byte[length];
        new Random(length).NextBytes(content);
        await File.WriteAllBytesAsync(Path.Combine(DataDir, name + ".service"), content);
        using var response = await CheckAsync(name, DataDir, totalLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return content;
    }

    public Task<HttpResponseMessage> CheckAsync(string name, string? dataDir, string? totalLimit = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "check/" + Uri.EscapeDataString(name));
        if (dataDir is not null)
        {
            request.Headers.TryAddWithoutValidation("dataDir", dataDir);
        }

        if (totalLimit is not null)
        {
            request.Headers.TryAddWithoutValidation("totalLimit", totalLimit);
        }

        return Client.SendAsync(request);
    }

    /// <summary>A piece request on <see cref="PieceClient"/>.</summary>
    public Task<HttpResponseMessage> GetPieceAsync(string name, string? range, string? pieceNum, string? pieceSize, bool source = false) =>
        PieceClient.SendAsync(PieceRequest(name, range, pieceNum, pieceSize, source));

    /// <summary>A piece request on <see cref="Client"/>, whose connections carried <c>/check/</c> and so are served by
    /// Kestrel's HTTP layer.</summary>
    public Task<HttpResponseMessage> GetPieceOverHttpLayerAsync(string name, string? range, string? pieceNum, string? pieceSize, bool source = false) =>
        Client.SendAsync(PieceRequest(name, range, pieceNum, pieceSize, source));

    /// <summary>The raw request head of a piece, for socket tests.</summary>
    public static string RawPieceHead(string name, string range, int pieceNum, int pieceSize, string extraHeaders = "") =>
        $"GET /peer/file/{name} HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: {range}\r\npieceNum: {pieceNum}\r\npieceSize: {pieceSize}\r\n{extraHeaders}\r\n";

    private static HttpClient NewClient(int port) =>
        new(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };

    private static HttpRequestMessage PieceRequest(string name, string? range, string? pieceNum, string? pieceSize, bool source)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "peer/file/" + Uri.EscapeDataString(name));
        if (range is not null)
        {
            request.Headers.TryAddWithoutValidation("Range", range);
        }

        if (pieceNum is not null)
        {
            request.Headers.TryAddWithoutValidation("pieceNum", pieceNum);
        }

        if (pieceSize is not null)
        {
            request.Headers.TryAddWithoutValidation("pieceSize", pieceSize);
        }

        if (source)
        {
            request.Headers.TryAddWithoutValidation("cdnSource", "source");
        }

        return request;
    }

    /// <summary>Sends a request line with a raw, unnormalised path and returns the status code and body text.</summary>
    public async Task<(int Status, string Response)> RawGetAsync(string rawPath, string extraHeaders = "")
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, Port);
        await using var stream = tcp.GetStream();
        var request = $"GET {rawPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-4194303\r\npieceNum: 0\r\npieceSize: 4194304\r\n{extraHeaders}Connection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var text = await reader.ReadToEndAsync();
        var status = text.Length > 12 && int.TryParse(text.AsSpan(9, 3), out var s) ? s : 0;
        return (status, text);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        PieceClient.Dispose();
        await Server.DisposeAsync();
        Temp.Dispose();
    }
}
