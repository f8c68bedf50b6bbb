using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Dragonfly.Dfdaemon.Config;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>
/// TLS trust towards upstreams: the system store, plus <c>registry_mirror.certs</c> for the mirror host and
/// <c>hijack_https.hosts[].certs</c> for hijacked hosts; <c>insecure</c> skips verification for exactly those hosts.
/// </summary>
public sealed class UpstreamTlsPolicy
{
    private readonly string _mirrorHost;
    private readonly bool _mirrorInsecure;
    private readonly X509Certificate2Collection _mirrorCerts;
    private readonly IReadOnlyList<string> _mirrorCertFiles;
    private readonly List<(HijackHost Host, X509Certificate2Collection Certs)> _hijack = [];

    public UpstreamTlsPolicy(DfdaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _mirrorHost = options.RegistryMirror.Remote.Host;
        _mirrorInsecure = options.RegistryMirror.Insecure;
        _mirrorCertFiles = options.RegistryMirror.Certs;
        _mirrorCerts = LoadAll(options.RegistryMirror.Certs);
        foreach (var host in options.HijackHttps?.Hosts ?? [])
        {
            _hijack.Add((host, LoadAll(host.Certs)));
        }
    }

    /// <summary>True when requests to <paramref name="host"/> skip certificate verification.</summary>
    public bool IsInsecure(string host) =>
        (string.Equals(host, _mirrorHost, StringComparison.OrdinalIgnoreCase) && _mirrorInsecure)
        || _hijack.Any(h => h.Host.Insecure && h.Host.Matches(host));

    /// <summary>Extra CA files trusted for <paramref name="host"/> (handed to the P2P engine as <c>--cacerts</c>).</summary>
    public IReadOnlyList<string> CaFilesFor(string host)
    {
        var files = new List<string>();
        if (string.Equals(host, _mirrorHost, StringComparison.OrdinalIgnoreCase))
        {
            files.AddRange(_mirrorCertFiles);
        }

        foreach (var (h, _) in _hijack)
        {
            if (h.Matches(host))
            {
                files.AddRange(h.Certs);
            }
        }

        return files;
    }

    public bool Validate(string host, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (IsInsecure(host))
        {
            return true;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        var extra = new X509Certificate2Collection();
        if (string.Equals(host, _mirrorHost, StringComparison.OrdinalIgnoreCase))
        {
            extra.AddRange(_mirrorCerts);
        }

        foreach (var (h, certs) in _hijack)
        {
            if (h.Matches(host))
            {
                extra.AddRange(certs);
            }
        }

        if (extra.Count == 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(extra);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var cert2 = new X509Certificate2(certificate);
        return custom.Build(cert2);
    }

    private static X509Certificate2Collection LoadAll(IEnumerable<string> files)
    {
        var collection = new X509Certificate2Collection();
        foreach (var file in files)
        {
            collection.ImportFromPemFile(file);
        }

        return collection;
    }
}
