using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Dragonfly.Dfdaemon.Config;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>
/// TLS trust towards upstreams, by host <em>and port</em>, as the host policy decides which upstreams may be reached: the system
/// store, plus <c>registry_mirror.certs</c> for the mirror's host and port and <c>hijack_https.hosts[].certs</c> for a hijack host
/// on that entry's port (443 unless set); <c>insecure</c> skips verification for exactly those. The same host on another port
/// gets the system store only.
/// </summary>
public sealed class UpstreamTlsPolicy
{
    private readonly Uri _mirror;
    private readonly bool _mirrorInsecure;
    private readonly IReadOnlyList<string> _mirrorCertFiles;
    private readonly X509Certificate2[] _mirrorCerts;
    private readonly List<(HijackHost Host, X509Certificate2[] Certs)> _hijack = [];
    private readonly ConcurrentDictionary<string, UpstreamTrust> _trusts = new(StringComparer.Ordinal);

    public UpstreamTlsPolicy(DfdaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _mirror = options.RegistryMirror.Remote;
        _mirrorInsecure = options.RegistryMirror.Insecure;
        _mirrorCertFiles = options.RegistryMirror.Certs;
        _mirrorCerts = LoadAll(options.RegistryMirror.Certs);
        foreach (var host in options.HijackHttps?.Hosts ?? [])
        {
            _hijack.Add((host, LoadAll(host.Certs)));
        }
    }

    /// <summary>The trust towards <paramref name="url"/>'s host and port (its scheme's default port when it names none).</summary>
    public UpstreamTrust TrustFor(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return TrustFor(url.Host, url.Port);
    }

    /// <summary>The trust towards <paramref name="host"/>:<paramref name="port"/> (an IPv6 host with or without brackets).</summary>
    public UpstreamTrust TrustFor(string host, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        var bare = WithoutBrackets(host);
        var mirror = port == _mirror.Port && string.Equals(bare, WithoutBrackets(_mirror.Host), StringComparison.OrdinalIgnoreCase);
        var hijack = new List<int>();
        for (var i = 0; i < _hijack.Count; i++)
        {
            if (_hijack[i].Host.Matches(bare, port))
            {
                hijack.Add(i);
            }
        }

        if (!mirror && hijack.Count == 0)
        {
            return UpstreamTrust.Default;
        }

        // Which entries apply is all a trust depends on: one instance per set.
        var key = (mirror ? "m" : "-") + string.Concat(hijack.Select(i => "," + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return _trusts.GetOrAdd(key, _ => Build(mirror, hijack));
    }

    /// <summary>True when requests to <paramref name="url"/>'s host and port skip certificate verification.</summary>
    public bool IsInsecure(Uri url) => TrustFor(url).Insecure;

    /// <summary>Extra CA files trusted for <paramref name="url"/>'s host and port (handed to the P2P engine as <c>--cacerts</c>).</summary>
    public IReadOnlyList<string> CaFilesFor(Uri url) => TrustFor(url).CaFiles;

    private UpstreamTrust Build(bool mirror, List<int> hijack)
    {
        var insecure = mirror && _mirrorInsecure;
        var files = new List<string>();
        var certs = new List<X509Certificate2>();
        if (mirror)
        {
            files.AddRange(_mirrorCertFiles);
            certs.AddRange(_mirrorCerts);
        }

        foreach (var i in hijack)
        {
            insecure |= _hijack[i].Host.Insecure;
            files.AddRange(_hijack[i].Host.Certs);
            certs.AddRange(_hijack[i].Certs);
        }

        return new UpstreamTrust(insecure, files, [.. certs]);
    }

    private static string WithoutBrackets(string host) => host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;

    private static X509Certificate2[] LoadAll(IEnumerable<string> files)
    {
        var collection = new X509Certificate2Collection();
        foreach (var file in files)
        {
            collection.ImportFromPemFile(file);
        }

        return [.. collection];
    }
}
