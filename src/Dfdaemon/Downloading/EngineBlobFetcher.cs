using System.IO.Pipelines;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Streaming;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Downloading;

/// <summary>
/// <see cref="IBlobFetcher"/> over the in-process dfget engine (<see cref="IBlobStreamer"/>): no dfget process. The download
/// runs as a p2p peer with dfdaemon's own work home (its own uploader, separate from a dfget on the same host), never goes back
/// to the origin itself (<c>NotBackSource</c>: dfdaemon falls back so the client sees the registry's own answer), and writes
/// into <c>&lt;localrepo&gt;/&lt;uuid&gt;</c>, removed after the response. Bytes are handed out in piece order through a pipe;
/// the fetch counts as started only once the first byte is there, so any earlier failure still falls back.
/// </summary>
public sealed partial class EngineBlobFetcher : IBlobFetcher
{
    private readonly IBlobStreamer _streamer;
    private readonly DfdaemonOptions _options;
    private readonly DfdaemonMetrics _metrics;
    private readonly ILogger<EngineBlobFetcher> _logger;

    public EngineBlobFetcher(IBlobStreamer streamer, DfdaemonOptions options, DfdaemonMetrics metrics, ILogger<EngineBlobFetcher> logger)
    {
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _streamer = streamer ?? throw new ArgumentNullException(nameof(streamer));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        if (options.DfgetFlags.Ignored.Count > 0)
        {
            Log.FlagsIgnored(_logger, string.Join(", ", options.DfgetFlags.Ignored));
        }
    }

    public async Task<BlobFetchResult> FetchAsync(BlobFetchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        Directory.CreateDirectory(_options.LocalRepo);
        var output = Path.Combine(_options.LocalRepo, Guid.NewGuid().ToString("N"));
        var download = BuildRequest(request, output);
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        IBlobStream blob;
        try
        {
            // No digest for the engine: BlobResponder hashes every byte it serves and holds the last chunk back until the
            // digest matched, so a second sha256 pass here would only cost CPU (~0.15 s per 256 MiB).
            blob = _streamer.Start(download, new StreamingOptions(), cts.Token);
        }
        catch (ArgumentException e)
        {
            cts.Dispose();
            return new BlobFetchResult.Failed(e.Message);
        }

        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4 * 1024 * 1024, resumeWriterThreshold: 2 * 1024 * 1024));
        var pump = PumpAsync(blob, pipe.Writer, cts.Token);

        // Wait for the first byte (or the end): a failure before it is a clean fallback.
        ReadResult first;
        try
        {
            first = await pipe.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await CleanupAsync(blob, cts, pump, output).ConfigureAwait(false);
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            return new BlobFetchResult.Failed(Describe(e));
        }
        catch (OperationCanceledException)
        {
            await CleanupAsync(blob, cts, pump, output).ConfigureAwait(false);
            throw;
        }

        pipe.Reader.AdvanceTo(first.Buffer.Start);
        var length = blob.Length.IsCompletedSuccessfully ? await blob.Length.ConfigureAwait(false) : -1;
        if (first.Buffer.IsEmpty && first.IsCompleted && blob.Completion.IsCompletedSuccessfully && (await blob.Completion.ConfigureAwait(false)).Success)
        {
            length = 0;
        }

        Log.Started(_logger, request.Url.AbsolutePath, length);
        return new BlobFetchResult.Started(length, new OwningStream(pipe.Reader.AsStream(), async () =>
        {
            await pump.ConfigureAwait(false);
            if (blob.Completion.IsCompletedSuccessfully)
            {
                var result = await blob.Completion.ConfigureAwait(false);
                _metrics.AddP2pSources(result.Bytes.FromPeers, result.Bytes.FromSupernode);
                Log.Finished(_logger, request.Url.AbsolutePath, result.Bytes.FromPeers, result.Bytes.FromSupernode, result.Bytes.FromSource);
            }

            await CleanupAsync(blob, cts, pump, output).ConfigureAwait(false);
        }));
    }

    internal DownloadRequest BuildRequest(BlobFetchRequest request, string output)
    {
        var flags = _options.DfgetFlags;
        var caCerts = (request.CaCertFiles ?? []).Concat(flags.CaCertFiles).Select(File.ReadAllBytes).ToList();
        return new DownloadRequest
        {
            Url = request.Url,
            Output = output,
            Headers = [.. flags.Headers, .. request.Headers],
            Nodes = _options.EffectiveSupernodes,
            Identifier = flags.Identifier,
            Filter = flags.Filter,
            Pattern = flags.Pattern ?? DownloadPattern.P2p,
            NotBackSource = true,
            LocalLimit = _options.RateLimit,
            TotalLimit = _options.RateLimit,
            MinRate = flags.MinRate ?? DownloadRequest.DefaultMinRate,
            Timeout = flags.Timeout ?? TimeSpan.Zero,
            Dfdaemon = true,
            CallerVerifiesContent = request.Sha256 is not null,
            Insecure = request.Insecure || flags.Insecure,
            CaCerts = caCerts,
            WorkHome = new WorkHomeLayout(_options.EngineHome),
            BindIp = _options.PeerIp,
            Port = _options.EnginePeerPort,
            ExpireTime = flags.ExpireTime ?? UploaderOptions.DefaultExpireTime,
            AliveTime = flags.AliveTime ?? UploaderOptions.DefaultAliveTime,
            ClientQueue = flags.ClientQueue ?? DownloadRequest.DefaultClientQueue,
            Verbose = _options.Verbose || flags.Verbose,
            CallSystem = flags.CallSystem ?? "dfdaemon",
        };
    }

    private static async Task PumpAsync(IBlobStream blob, PipeWriter writer, CancellationToken cancellationToken)
    {
        Exception? error = null;
        try
        {
            await blob.CopyToAsync(writer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            error = e is IOException ? e : new IOException(Describe(e), e);
        }

        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    private static async Task CleanupAsync(IBlobStream blob, CancellationTokenSource cts, Task pump, string output)
    {
        await cts.CancelAsync().ConfigureAwait(false);
        await pump.ConfigureAwait(false);
        await blob.DisposeAsync().ConfigureAwait(false);
        cts.Dispose();
        try
        {
            File.Delete(output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The cleaner removes it later.
        }
    }

    private static string Describe(Exception e) => e switch
    {
        BlobStreamException { Result: { } r } => $"P2P download failed: {r.Message} (reason {r.BackSourceReason})",
        IOException { InnerException: { } inner } => Describe(inner),
        _ => e.Message,
    };

    /// <summary>The content stream; disposing it stops the download and removes the temp file.</summary>
    private sealed class OwningStream(Stream inner, Func<Task> onDispose) : Stream
    {
        private int _disposed;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("synchronous IO is not supported");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                await inner.DisposeAsync().ConfigureAwait(false);
                await onDispose().ConfigureAwait(false);
            }

            await base.DisposeAsync().ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                inner.Dispose();
                _ = onDispose();
            }

            base.Dispose(disposing);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 60, Level = LogLevel.Debug, Message = "P2P stream for {Path} started, length {Length}")]
        public static partial void Started(ILogger logger, string path, long length);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 61, Level = LogLevel.Information, Message = "P2P download of {Path} done: {FromPeers} bytes from peers, {FromSupernode} from the supernode, {FromSource} from the source")]
        public static partial void Finished(ILogger logger, string path, long fromPeers, long fromSupernode, long fromSource);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 62, Level = LogLevel.Information, Message = "dfget_flags accepted without effect in-process: {Flags}")]
        public static partial void FlagsIgnored(ILogger logger, string flags);
    }
}
