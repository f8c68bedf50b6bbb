using System.Globalization;
using System.Text;

namespace Dragonfly.Dfdaemon.Metrics;

/// <summary>
/// dfdaemon's counters (bytes via P2P vs direct, blob outcomes, tunnels), exported at <c>/metrics</c> in the Prometheus text
/// format under the <c>dragonfly_dfdaemon_</c> prefix. One instance per host (a DI singleton), never static.
/// </summary>
public sealed class DfdaemonMetrics
{
    private long _p2pBytes;
    private long _fromPeers;
    private long _fromSupernode;
    private long _directBytes;
    private long _blobP2p;
    private long _blobFallback;
    private long _blobDigestMismatch;
    private long _blobFailedMidStream;
    private long _blobAccessRefused;
    private long _forwarded;
    private long _upstreamErrors;
    private long _tunnels;
    private long _hijacked;
    private long _denied;

    public long P2pBytes => Interlocked.Read(ref _p2pBytes);

    public long DirectBytes => Interlocked.Read(ref _directBytes);

    public long BlobP2p => Interlocked.Read(ref _blobP2p);

    public long BlobFallback => Interlocked.Read(ref _blobFallback);

    public long BlobDigestMismatch => Interlocked.Read(ref _blobDigestMismatch);

    public long BlobAccessRefused => Interlocked.Read(ref _blobAccessRefused);

    public long Forwarded => Interlocked.Read(ref _forwarded);

    public long Tunnels => Interlocked.Read(ref _tunnels);

    public long Hijacked => Interlocked.Read(ref _hijacked);

    public long Denied => Interlocked.Read(ref _denied);

    public long BytesFromPeers => Interlocked.Read(ref _fromPeers);

    public long BytesFromSupernode => Interlocked.Read(ref _fromSupernode);

    public void AddP2pBytes(long n) => Interlocked.Add(ref _p2pBytes, n);

    /// <summary>Where the engine got a finished blob's pieces: other peers' uploaders vs the supernode.</summary>
    public void AddP2pSources(long fromPeers, long fromSupernode)
    {
        Interlocked.Add(ref _fromPeers, fromPeers);
        Interlocked.Add(ref _fromSupernode, fromSupernode);
    }

    public void AddDirectBytes(long n) => Interlocked.Add(ref _directBytes, n);

    public void BlobServedByP2p() => Interlocked.Increment(ref _blobP2p);

    public void BlobFellBack() => Interlocked.Increment(ref _blobFallback);

    public void DigestMismatch() => Interlocked.Increment(ref _blobDigestMismatch);

    public void BlobFailedMidStream() => Interlocked.Increment(ref _blobFailedMidStream);

    public void BlobNotAllowed() => Interlocked.Increment(ref _blobAccessRefused);

    public void RequestForwarded() => Interlocked.Increment(ref _forwarded);

    public void UpstreamError() => Interlocked.Increment(ref _upstreamErrors);

    public void TunnelOpened() => Interlocked.Increment(ref _tunnels);

    public void ConnectionHijacked() => Interlocked.Increment(ref _hijacked);

    public void RequestDenied() => Interlocked.Increment(ref _denied);

    public string ToPrometheusText()
    {
        var sb = new StringBuilder();
        Counter(sb, "p2p_bytes_total", "Blob bytes served from P2P downloads.", P2pBytes);
        Counter(sb, "p2p_bytes_from_peers_total", "Bytes of P2P downloads fetched from other peers' uploaders.", BytesFromPeers);
        Counter(sb, "p2p_bytes_from_supernode_total", "Bytes of P2P downloads fetched from the supernode.", BytesFromSupernode);
        Counter(sb, "direct_bytes_total", "Response body bytes forwarded directly from upstreams.", DirectBytes);
        Counter(sb, "blob_p2p_total", "Blob requests served through P2P.", BlobP2p);
        Counter(sb, "blob_fallback_total", "Blob requests that fell back to a direct upstream request.", BlobFallback);
        Counter(sb, "blob_digest_mismatch_total", "Blob downloads aborted because the sha256 digest did not match.", BlobDigestMismatch);
        Counter(sb, "blob_failed_midstream_total", "Blob downloads that failed after the response started.", Interlocked.Read(ref _blobFailedMidStream));
        Counter(sb, "blob_access_refused_total", "Blob requests the upstream did not allow for this client (or could not be asked): sent directly, never served from P2P.", BlobAccessRefused);
        Counter(sb, "forwarded_requests_total", "Requests forwarded directly to an upstream.", Forwarded);
        Counter(sb, "upstream_errors_total", "Upstream connection failures answered with 502.", Interlocked.Read(ref _upstreamErrors));
        Counter(sb, "tunnels_total", "CONNECT requests served as blind TCP tunnels.", Tunnels);
        Counter(sb, "hijacked_total", "CONNECT requests intercepted with a generated certificate.", Hijacked);
        Counter(sb, "denied_total", "Proxy requests refused by policy (403).", Denied);
        return sb.ToString();
    }

    private static void Counter(StringBuilder sb, string name, string help, long value)
    {
        sb.Append("# HELP dragonfly_dfdaemon_").Append(name).Append(' ').Append(help).Append('\n');
        sb.Append("# TYPE dragonfly_dfdaemon_").Append(name).Append(" counter\n");
        sb.Append("dragonfly_dfdaemon_").Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }
}
