namespace Dragonfly.Dfget.Engine;

/// <summary>The dfget download engine: register → P2P pieces → finish, falling back to the origin. Used by the CLI and dfdaemon.</summary>
public interface IDownloadEngine
{
    /// <summary>
    /// Downloads <see cref="DownloadRequest.Url"/> to <see cref="DownloadRequest.Output"/>. Never throws for download failures
    /// (they are in the result); throws <see cref="OperationCanceledException"/> only when <paramref name="cancellationToken"/> fires,
    /// and <see cref="ArgumentException"/> for an invalid request.
    /// </summary>
    Task<DownloadResult> DownloadAsync(DownloadRequest request, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken);
}
