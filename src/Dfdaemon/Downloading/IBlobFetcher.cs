namespace Dragonfly.Dfdaemon.Downloading;

/// <summary>A blob to fetch through P2P.</summary>
/// <param name="Url">The full upstream URL (the task URL).</param>
/// <param name="Headers"><c>"Key: value"</c> headers for the origin (Authorization kept, Host/Accept-Encoding dropped).</param>
/// <param name="Sha256">Expected sha256 hex from the URL, when it names one.</param>
/// <param name="Insecure">The origin's TLS certificate is not verified.</param>
/// <param name="CaCertFiles">Extra PEM CA files trusted for the origin.</param>
public sealed record BlobFetchRequest(Uri Url, IReadOnlyList<string> Headers, string? Sha256, bool Insecure = false, IReadOnlyList<string>? CaCertFiles = null);

/// <summary>The start of a P2P blob fetch, as a value: either the bytes are coming, or P2P failed before the first byte.</summary>
public abstract record BlobFetchResult
{
    private BlobFetchResult()
    {
    }

    /// <summary>The blob streams in file order from <see cref="Content"/>; <see cref="Length"/> is -1 when unknown.</summary>
    public sealed record Started(long Length, Stream Content) : BlobFetchResult;

    /// <summary>P2P could not deliver; the caller goes to the upstream directly.</summary>
    public sealed record Failed(string Reason) : BlobFetchResult;
}

/// <summary>
/// dfdaemon's seam to the P2P engine: starts a download and yields the blob's bytes in order while it runs. A fetch that
/// fails later surfaces as an <see cref="IOException"/> from the content stream. Implementations must not fall back to the
/// origin themselves: dfdaemon does that, so the client sees the upstream's own status (404, 401 + WWW-Authenticate).
/// </summary>
public interface IBlobFetcher
{
    Task<BlobFetchResult> FetchAsync(BlobFetchRequest request, CancellationToken cancellationToken);
}

/// <summary>Used when no supernode is configured: every blob goes directly to the upstream.</summary>
public sealed class DisabledBlobFetcher : IBlobFetcher
{
    public Task<BlobFetchResult> FetchAsync(BlobFetchRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<BlobFetchResult>(new BlobFetchResult.Failed("no supernode configured"));
}
