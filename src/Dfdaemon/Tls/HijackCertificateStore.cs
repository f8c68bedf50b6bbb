using System.Security.Cryptography.X509Certificates;
using Dragonfly.Dfdaemon.Config;

namespace Dragonfly.Dfdaemon.Tls;

/// <summary>
/// The certificates presented to clients of hijacked CONNECT tunnels: if <c>hijack_https.cert</c> is a CA, a per-host leaf
/// (~24 h validity) issued on demand and kept in an LRU cache of 100 hosts; otherwise the configured certificate itself.
/// </summary>
public sealed class HijackCertificateStore : IDisposable
{
    public const int Capacity = 100;
    public static readonly TimeSpan LeafValidity = TimeSpan.FromHours(24);

    private readonly X509Certificate2 _configured;
    private readonly CertificateAuthority? _ca;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly LinkedList<(string Host, X509Certificate2 Cert)> _lru = new();
    private readonly Dictionary<string, LinkedListNode<(string Host, X509Certificate2 Cert)>> _byHost = new(StringComparer.OrdinalIgnoreCase);

    public HijackCertificateStore(HijackHttpsOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _configured = X509Certificate2.CreateFromPemFile(options.CertPath, options.KeyPath);
        if (CertificateAuthority.IsCa(_configured))
        {
            _ca = new CertificateAuthority(_configured, time);
        }
    }

    public X509Certificate2 CaCertificate => _configured;

    public int CachedCount
    {
        get
        {
            lock (_lock)
            {
                return _lru.Count;
            }
        }
    }

    /// <summary>The certificate to present for <paramref name="host"/>.</summary>
    public X509Certificate2 For(string host)
    {
        if (_ca is null)
        {
            return _configured;
        }

        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (_byHost.TryGetValue(host, out var node))
            {
                if (new DateTimeOffset(node.Value.Cert.NotAfter.ToUniversalTime()) > now.AddHours(1))
                {
                    _lru.Remove(node);
                    _lru.AddFirst(node);
                    return node.Value.Cert;
                }

                _lru.Remove(node);
                _byHost.Remove(host);
                node.Value.Cert.Dispose();
            }
        }

        var leaf = _ca.IssueLeaf(host, LeafValidity);
        lock (_lock)
        {
            if (_byHost.TryGetValue(host, out var raced))
            {
                leaf.Dispose();
                return raced.Value.Cert;
            }

            _byHost[host] = _lru.AddFirst((host, leaf));
            while (_lru.Count > Capacity)
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _byHost.Remove(last.Value.Host);

                // Not disposed: a handshake in flight may still use it; the GC reclaims it.
            }
        }

        return leaf;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var (_, cert) in _lru)
            {
                cert.Dispose();
            }

            _lru.Clear();
            _byHost.Clear();
        }

        _configured.Dispose();
    }
}
