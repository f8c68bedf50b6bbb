using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Downloading;

/// <summary>The outcome of a download straight from the origin.</summary>
public abstract record BackSourceResult
{
    private BackSourceResult()
    {
    }

    public sealed record Success(long Length, string Md5) : BackSourceResult;

    /// <param name="NoSpace">The disk is full.</param>
    public sealed record Failed(string Message, bool NoSpace = false) : BackSourceResult;
}

/// <summary>
/// Downloads the URL from the origin ("back to source"): GET with the request's headers, any status below 400 accepted,
/// streamed into a temp file next to the output (rate limited, md5 computed on the fly), checked against the expected md5,
/// then renamed over the output. On any failure the temp file is removed and nothing appears at the output.
/// </summary>
public sealed partial class BackSourceDownloader(DfgetHttpClients clients, ILogger<BackSourceDownloader> logger)
{
    private const int ChunkSize = 128 * 1024;

    public async Task<BackSourceResult> DownloadAsync(
        DownloadRequest request, string tempPath, DownloadRateLimiter limiter, DownloadStats stats, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limiter);
        ArgumentNullException.ThrowIfNull(stats);
        var ownClient = request.Insecure || request.CaCerts.Count > 0 ? DfgetHttpClients.CreateOriginClient(request.Insecure, request.CaCerts) : null;
        var client = ownClient ?? clients.Origin;
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, request.Url);
            foreach (var (key, value) in request.HeaderPairs())
            {
                message.Headers.TryAddWithoutValidation(key, value);
            }

            if (!message.Headers.UserAgent.Any())
            {
                message.Headers.TryAddWithoutValidation("User-Agent", DfgetVersion.UserAgent);
            }

            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if ((int)response.StatusCode >= 400)
            {
                return new BackSourceResult.Failed($"failed to download from source, response code:{(int)response.StatusCode}");
            }

            var expectedLength = response.StatusCode == HttpStatusCode.OK ? response.Content.Headers.ContentLength ?? -1 : -1;
            progress?.Report(new DownloadProgress(DownloadProgressKind.BackSource, expectedLength, 0, FilePath: tempPath));
            var (length, md5) = await CopyToTempAsync(response, tempPath, expectedLength, limiter, stats, progress, cancellationToken).ConfigureAwait(false);
            if (expectedLength >= 0 && length != expectedLength)
            {
                TargetPublisher.TryDelete(tempPath);
                return new BackSourceResult.Failed($"source sent {length} of {expectedLength} bytes");
            }

            if (!string.IsNullOrEmpty(request.Md5) && !string.Equals(md5, request.Md5, StringComparison.OrdinalIgnoreCase))
            {
                TargetPublisher.TryDelete(tempPath);
                return new BackSourceResult.Failed($"md5 not match, expected:{request.Md5} real:{md5}");
            }

            TargetPublisher.PublishMove(tempPath, request.Output);
            Log.Done(logger, request.Url, length);
            return new BackSourceResult.Success(length, md5);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or UnauthorizedAccessException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            TargetPublisher.TryDelete(tempPath);
            var noSpace = DiskErrors.IsNoSpace(e);
            Log.Failed(logger, request.Url, e.Message);
            return new BackSourceResult.Failed(noSpace ? $"no space left on device writing {tempPath}" : e.Message, noSpace);
        }
        catch
        {
            TargetPublisher.TryDelete(tempPath);
            throw;
        }
        finally
        {
            ownClient?.Dispose();
        }
    }

    private static async Task<(long Length, string Md5)> CopyToTempAsync(
        HttpResponseMessage response, string tempPath, long expectedLength, DownloadRateLimiter limiter, DownloadStats stats,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var file = new FileStream(tempPath, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.Read | FileShare.Delete, Options = FileOptions.Asynchronous });
                await using (file.ConfigureAwait(false))
                {
                    long total = 0;
                    while (true)
                    {
                        var read = await body.ReadAsync(buffer.AsMemory(0, ChunkSize), cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                        {
                            break;
                        }

                        await limiter.AcquireAsync(read, cancellationToken).ConfigureAwait(false);
                        await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        md5.AppendData(buffer, 0, read);
                        total += read;
                        stats.AddSource(read);
                        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                        progress?.Report(new DownloadProgress(DownloadProgressKind.SourceBytes, expectedLength, total, FilePath: tempPath));
                    }

                    return (total, Convert.ToHexStringLower(md5.GetHashAndReset()));
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2300, LogLevel.Information, "Downloaded {Url} from source: {Length} bytes")]
        public static partial void Done(ILogger logger, Uri url, long length);

        [LoggerMessage(2301, LogLevel.Warning, "Download of {Url} from source failed: {Error}")]
        public static partial void Failed(ILogger logger, Uri url, string error);
    }
}
