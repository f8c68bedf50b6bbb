using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>
/// The TLS trust towards one upstream <c>host:port</c>: the system store, plus the extra CAs of the config entries that name it;
/// <see cref="Insecure"/> skips verification. One instance per distinct set of matching entries, so it can key a connection pool.
/// </summary>
public sealed class UpstreamTrust
{
    /// <summary>No entry names the host and port: the system store only.</summary>
    public static readonly UpstreamTrust Default = new(false, [], []);

    private readonly X509Certificate2[] _extraCas;

    internal UpstreamTrust(bool insecure, IReadOnlyList<string> caFiles, X509Certificate2[] extraCas)
    {
        Insecure = insecure;
        CaFiles = caFiles;
        _extraCas = extraCas;
    }

    /// <summary>Certificates are not verified.</summary>
    public bool Insecure { get; }

    /// <summary>The PEM files of the extra CAs (handed to the P2P engine as <c>--cacerts</c>).</summary>
    public IReadOnlyList<string> CaFiles { get; }

    /// <summary>
    /// Accepts what the system store accepts; else anything when <see cref="Insecure"/>; else a certificate for the right name
    /// that chains to one of the extra CAs.
    /// </summary>
    public bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None || Insecure)
        {
            return true;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || _extraCas.Length == 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_extraCas);
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
}
