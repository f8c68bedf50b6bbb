using System.Text.Json;
using Dragonfly.Common.Api.Client;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Http;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;

namespace Dragonfly.Dfget.App.Commands;

/// <summary>
/// Runs the code of a download's first requests once on another core while the main thread builds the logger, the
/// services and the engine: the HTTP client stack (a <c>/server/ping</c> to the work home's recorded uploader, if any),
/// the JSON metadata of the supernode API's request and response bodies, the MD5 block function, and the Polly retry
/// pipeline of the supernode reports (its option validation reflects over data annotations).
/// </summary>
/// <remarks>
/// Most of a small download's time is the JIT compiling those paths for the first time (docs/design/performance.md,
/// "Start-up"), one method at a time on the thread that first needs them, while the machine's other core idles. Compiled
/// code is shared by every caller, so the download's own requests find it ready. The warm-up changes nothing a download
/// sees: the ping only reads, and every failure is ignored.
/// </remarks>
internal static class StartupWarmup
{
    private const int Md5BlockBytes = 64;

    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Starts the warm-up on the thread pool. Its expected failures are swallowed; await it without throwing.</summary>
    public static Task Start(DownloadRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Pattern == DownloadPattern.Source
            ? Task.CompletedTask
            : Task.Run(() => RunAsync(request.WorkHome, request.BindIp));
    }

    private static async Task RunAsync(WorkHomeLayout home, string? bindIp)
    {
        var http = PingUploaderAsync(home, bindIp);
        try
        {
            await RoundTripApiBodiesAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
        }

        await HashABlockAsync().ConfigureAwait(false);
        await SupernodeSession.WarmUpRetryAsync().ConfigureAwait(false);

        await http.ConfigureAwait(false);
    }

    private static async Task PingUploaderAsync(WorkHomeLayout home, string? bindIp)
    {
        try
        {
            var port = await new HostMetaFile(home.HostMetaPath).ReadPortAsync(CancellationToken.None).ConfigureAwait(false);
            if (port <= 0)
            {
                return;
            }

            using var client = new HttpClient(new SocketErrorHandler(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })) { Timeout = PingTimeout };
            using var response = await client.GetAsync(new Uri(UploaderLauncher.UploaderUri(bindIp, port), "server/ping")).ConfigureAwait(false);
            _ = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or UnauthorizedAccessException or UriFormatException or ArgumentException)
        {
        }
    }

    /// <summary>
    /// Serializes each body a download sends and reads back each one it receives, with the generated client's own settings,
    /// so the metadata it builds is the client's and is not built twice.
    /// </summary>
    private static async Task RoundTripApiBodiesAsync()
    {
        var options = SupernodeClient.SharedJsonSettings;
        _ = JsonSerializer.SerializeToUtf8Bytes(new PeerCreateRequest { Ip = "127.0.0.1", HostName = "h", Port = 1, Version = "v" }, options);
        _ = JsonSerializer.SerializeToUtf8Bytes(
            new TaskCreateRequest
            {
                Cid = "c",
                RawUrl = "http://h/f",
                Headers = new Dictionary<string, string> { ["k"] = "v" },
                Dfdaemon = false,
                Filter = ["f"],
                FileLength = 1,
            },
            options);
        _ = JsonSerializer.SerializeToUtf8Bytes(new PieceUpdateRequest { ClientId = "c", DstPid = "p", PieceStatus = PieceResult.Success }, options);
        await RoundTripAsync(new PeerCreateResponse { Id = "p" }, options).ConfigureAwait(false);
        await RoundTripAsync(new TaskCreateResponse { Id = "t", FileLength = 1, PieceSize = 1, CdnSource = CdnSource.Supernode }, options).ConfigureAwait(false);
        await RoundTripAsync(
            new PiecePullResponse
            {
                State = PiecePullState.Continue,
                Pieces = [new PieceInfo { PeerId = "p", PieceRange = "0-1", PieceSize = 1, PieceMd5 = "m", PeerIp = "127.0.0.1", PeerPort = 1, Path = "/" }],
                Md5 = "m",
                FileLength = 1,
                WaitedMs = 1,
            },
            options).ConfigureAwait(false);
    }

    /// <summary>The MD5 block function is compiled fully optimised on first use, which takes a while for its size.</summary>
    private static async Task HashABlockAsync()
    {
        using var batcher = new Md5Batcher();
        var stream = batcher.CreateStream();
        await stream.AppendAsync(new byte[Md5BlockBytes]).ConfigureAwait(false);
        _ = stream.GetHashHex();
    }

    private static async Task RoundTripAsync<T>(T value, JsonSerializerOptions options)
    {
        using var stream = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(value, options));
        _ = await JsonSerializer.DeserializeAsync<T>(stream, options).ConfigureAwait(false);
    }
}
