using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Dragonfly.Dfget.Engine;

namespace Dragonfly.Dfget.Streaming;

/// <summary>
/// Runs a download and hands its bytes out in piece order while it runs: it listens to the engine's progress (pieces
/// completed at offsets of the piece file, or in-order bytes of a back-source temp file), and copies each contiguous run to
/// the caller as soon as it is on disk. When the download ends, whatever was not streamed yet is read from the output file.
/// </summary>
public sealed class StreamingDownload : IBlobStream, IProgress<DownloadProgress>
{
    private const int ChunkSize = 1024 * 1024;
    private readonly object _gate = new();
    private readonly Dictionary<long, (int Length, string Path)> _pieces = [];
    private readonly TaskCompletionSource<long> _length = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cts;
    private readonly DownloadRequest _request;
    private readonly string? _sha256;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _sourcePath;
    private long _sourceAvailable;
    private Task<DownloadResult> _completion = null!;

    private StreamingDownload(DownloadRequest request, StreamingOptions options, CancellationToken cancellationToken)
    {
        _request = request;
        _sha256 = NormalizeDigest(options.Sha256);
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    public Task<long> Length => _length.Task;

    public Task<DownloadResult> Completion => _completion;

    public static StreamingDownload Start(IDownloadEngine engine, DownloadRequest request, StreamingOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        var download = new StreamingDownload(request, options, cancellationToken);
        download._completion = download.RunAsync(engine);
        return download;
    }

    public void Report(DownloadProgress value)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            switch (value.Kind)
            {
                case DownloadProgressKind.Registered:
                    if (value.TotalLength >= 0)
                    {
                        _length.TrySetResult(value.TotalLength);
                    }

                    break;
                case DownloadProgressKind.PieceCompleted when value.FilePath is not null && _sourcePath is null:
                    _pieces[value.Offset] = (value.Length, value.FilePath);
                    break;
                case DownloadProgressKind.BackSource:
                    _pieces.Clear();
                    _sourcePath = value.FilePath;
                    _sourceAvailable = 0;
                    if (value.TotalLength >= 0)
                    {
                        _length.TrySetResult(value.TotalLength);
                    }

                    break;
                case DownloadProgressKind.SourceBytes when value.FilePath == _sourcePath:
                    _sourceAvailable = Math.Max(_sourceAvailable, value.CompletedBytes);
                    break;
            }

            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public Task CopyToAsync(Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return CopyCoreAsync((memory, token) => destination.WriteAsync(memory, token), token => new ValueTask(destination.FlushAsync(token)), cancellationToken);
    }

    public Task CopyToAsync(PipeWriter destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return CopyCoreAsync(
            async (memory, token) =>
            {
                var flush = await destination.WriteAsync(memory, token).ConfigureAwait(false);
                if (flush.IsCanceled || flush.IsCompleted)
                {
                    throw new OperationCanceledException("the reader stopped");
                }
            },
            async token => await destination.FlushAsync(token).ConfigureAwait(false),
            cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await _completion.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }

    private async Task<DownloadResult> RunAsync(IDownloadEngine engine)
    {
        await Task.Yield();
        try
        {
            var result = await engine.DownloadAsync(_request, this, _cts.Token).ConfigureAwait(false);
            _length.TrySetResult(result.Success ? result.Length : -1);
            return result;
        }
        catch (Exception e)
        {
            _length.TrySetException(e);
            throw;
        }
        finally
        {
            Report(new DownloadProgress(DownloadProgressKind.SourceBytes, -1, -1));
        }
    }

    private async Task CopyCoreAsync(
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, Func<CancellationToken, ValueTask> flush, CancellationToken cancellationToken)
    {
        using var sha = _sha256 is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            long sent = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string? path = null;
                long count = 0;
                Task changed;
                lock (_gate)
                {
                    if (_sourcePath is not null)
                    {
                        if (_sourceAvailable > sent)
                        {
                            path = _sourcePath;
                            count = _sourceAvailable - sent;
                        }
                    }
                    else if (_pieces.TryGetValue(sent, out var piece))
                    {
                        path = piece.Path;
                        count = piece.Length;
                    }

                    changed = _changed.Task;
                }

                if (path is not null && count > 0)
                {
                    var copied = await CopyRangeAsync(path, sent, count, buffer, write, sha, cancellationToken).ConfigureAwait(false);
                    if (copied > 0)
                    {
                        sent += copied;
                        await flush(cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                }
                else if (path is not null && count == 0)
                {
                    // A zero-length piece (empty file): nothing to send.
                }

                if (_completion.IsCompleted)
                {
                    break;
                }

                // The engine's last report (RunAsync's finally) comes just before its task completes: a reader woken by it
                // can find the task not completed yet, and no report follows. So the completion itself also wakes the reader.
                await Task.WhenAny(changed, _completion).WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            DownloadResult result;
            try
            {
                result = await _completion.ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new BlobStreamException("download canceled", e);
            }

            if (!result.Success)
            {
                throw new BlobStreamException($"download failed: {result.Message}", result);
            }

            // The rest (pieces published before we saw them, a cdn temp renamed into place) from the output file.
            sent += await CopyRangeAsync(_request.Output, sent, long.MaxValue, buffer, write, sha, cancellationToken).ConfigureAwait(false);
            if (result.Length >= 0 && sent != result.Length)
            {
                throw new BlobStreamException($"streamed {sent} of {result.Length} bytes", result);
            }

            if (sha is not null)
            {
                var real = Convert.ToHexStringLower(sha.GetHashAndReset());
                if (!string.Equals(real, _sha256, StringComparison.Ordinal))
                {
                    throw new BlobStreamException($"sha256 mismatch: expected {_sha256}, got {real}", result);
                }
            }

            await flush(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Copies up to <paramref name="count"/> bytes at <paramref name="offset"/>; 0 when the file has gone (renamed into place).</summary>
    private static async Task<long> CopyRangeAsync(
        string path, long offset, long count, byte[] buffer, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, IncrementalHash? sha, CancellationToken cancellationToken)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return 0;
        }

        using (handle)
        {
            long copied = 0;
            while (copied < count)
            {
                var want = (int)Math.Min(buffer.Length, count - copied);
                var read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, want), offset + copied, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                sha?.AppendData(buffer, 0, read);
                await write(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                copied += read;
            }

            return copied;
        }
    }

    private static string? NormalizeDigest(string? digest)
    {
        if (string.IsNullOrWhiteSpace(digest))
        {
            return null;
        }

        var hex = digest.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? digest[7..] : digest;
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"'{digest}' is not a sha256 digest", nameof(digest));
        }

        return hex.ToLowerInvariant();
    }
}
