using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Dragonfly.Dfdaemon.Tls;

namespace Dragonfly.Dfdaemon.Tests.Support;

/// <summary>Certificates for HTTPS tests: a CA written as PEM files, and leaf certs for Kestrel upstreams.</summary>
public static class TestCertificates
{
    public static (string CertPath, string KeyPath, X509Certificate2 Ca) WriteCa(string dir)
    {
        var cert = Path.Combine(dir, "ca.crt");
        var key = Path.Combine(dir, "ca.key");
        using (var ca = CertificateAuthority.CreateCa("dfdaemon test CA", TimeSpan.FromDays(2), TimeProvider.System))
        {
            CertificateAuthority.WritePem(ca, cert, key);
        }

        return (cert, key, X509Certificate2.CreateFromPem(File.ReadAllText(cert)));
    }

    /// <summary>A self-signed server certificate for 127.0.0.1 (exported/imported so Kestrel can use the key).</summary>
    public static X509Certificate2 SelfSignedLoopback()
    {
        using var ca = CertificateAuthority.CreateCa("upstream CA", TimeSpan.FromDays(2), TimeProvider.System);
        using var leaf = new CertificateAuthority(ca, TimeProvider.System).IssueLeaf("127.0.0.1", TimeSpan.FromHours(2));
        return X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Validation that trusts only <paramref name="ca"/> and requires the name to match; records the presented leaf.</summary>
    public static RemoteCertificateValidationCallback TrustOnly(X509Certificate2 ca, Action<X509Certificate2>? seen = null) => (_, cert, _, errors) =>
    {
        if (cert is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        var leaf = new X509Certificate2(cert);
        seen?.Invoke(leaf);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    };
}
