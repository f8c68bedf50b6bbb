using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Registry;

/// <summary>What the upstream said about one client reading one blob, as a value.</summary>
public abstract record BlobAccess
{
    private BlobAccess()
    {
    }

    /// <summary>Nobody was asked: <c>verify_blob_access: false</c>, or the URL is not a registry API blob (see <see cref="BlobAccessCheck"/>).</summary>
    public sealed record NotChecked : BlobAccess;

    /// <summary>The upstream answered the client's HEAD with 2xx or 3xx (a redirect to storage is how registries say yes).</summary>
    public sealed record Allowed(int Status) : BlobAccess;

    /// <summary>The upstream answered with anything else (401, 403, 404, 405, 5xx...).</summary>
    public sealed record Refused(int Status) : BlobAccess;

    /// <summary>The upstream could not be asked (unreachable, timed out, broken answer).</summary>
    public sealed record Unknown(string Reason) : BlobAccess;

    /// <summary>True only when the blob may be served from the shared P2P cache.</summary>
    public bool MayUseP2p => this is NotChecked or Allowed;
}

/// <summary>
/// Asks the upstream whether THIS client may read a blob before dfdaemon serves it from P2P. The P2P cache (the supernode's CDN
/// and every peer) is keyed by URL and digest and was filled with whichever client's credentials came first, so without the
/// check any client would get any blob it can name. The question is a <c>HEAD</c> of the same upstream URL with the client's
/// own request headers (<c>Authorization</c>, cookies...; minus Host and hop-by-hop ones), redirects not followed: 2xx and 3xx
/// mean yes, anything else no. One round trip per blob, bounded by <see cref="Timeout"/>; <c>verify_blob_access: false</c>
/// turns it off.
/// Only registry API blob URLs (<c>…/blobs/sha256:&lt;digest&gt;</c>, where the registry decides by the request's headers) are
/// asked about. Any other URL a <c>proxies</c> rule sends to P2P, such as the storage URL a registry redirects to
/// (<c>…/blobs/sha256/ab/&lt;digest&gt;/data?X-Amz-Signature=…</c>), carries its credential in the URL itself, which is part
/// of the P2P task's identity; and a URL signed for GET refuses a HEAD, which would keep every such download off P2P.
/// </summary>
public sealed partial class BlobAccessCheck
{
    /// <summary>How long the upstream gets to answer the HEAD.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly bool _enabled;
    private readonly UpstreamInvoker _invoker;
    private readonly TimeProvider _time;
    private readonly ILogger<BlobAccessCheck> _logger;

    public BlobAccessCheck(DfdaemonOptions options, UpstreamInvoker invoker, TimeProvider time, ILogger<BlobAccessCheck> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _enabled = options.VerifyBlobAccess;
        _invoker = invoker ?? throw new ArgumentNullException(nameof(invoker));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>Asks <paramref name="upstream"/> with <paramref name="request"/>'s headers whether that client may read the blob.</summary>
    public async Task<BlobAccess> CheckAsync(HttpRequest request, Uri upstream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(upstream);
        if (!_enabled || !NamesARegistryBlob(upstream))
        {
            return new BlobAccess.NotChecked();
        }

        using var head = BuildHead(request, upstream);
        using var timeout = new CancellationTokenSource(Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _invoker.SendAsync(head, linked.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 400)
            {
                return new BlobAccess.Allowed(status);
            }

            Log.Refused(_logger, upstream.AbsolutePath, status);
            return new BlobAccess.Refused(status);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            var reason = timeout.IsCancellationRequested ? $"no answer within {Timeout.TotalSeconds:0} s" : e.Message;
            Log.Unknown(_logger, upstream.AbsolutePath, reason);
            return new BlobAccess.Unknown(reason);
        }
    }

    /// <summary>A registry API blob URL (<c>/blobs/sha256:&lt;64 hex&gt;</c>, percent-encoded or not).</summary>
    internal static bool NamesARegistryBlob(Uri upstream) => BlobPath.Sha256Of(Uri.UnescapeDataString(upstream.AbsolutePath)) is not null;

    /// <summary>
    /// The HEAD: the client's request as the forwarder would send it (headers minus hop-by-hop ones, no body, so no content
    /// headers), minus Range (the answer is about the whole blob).
    /// </summary>
    internal static HttpRequestMessage BuildHead(HttpRequest request, Uri upstream)
    {
        var head = HttpForwarder.BuildRequest(request, upstream, HttpMethod.Head);
        head.Headers.Remove("Range");
        return head;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 24, Level = LogLevel.Information, Message = "Blob {Path}: the upstream answered the client's HEAD with {Status}; not served from P2P")]
        public static partial void Refused(ILogger logger, string path, int status);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 25, Level = LogLevel.Warning, Message = "Blob {Path}: could not ask the upstream whether the client may read it ({Reason}); not served from P2P")]
        public static partial void Unknown(ILogger logger, string path, string reason);
    }
}
