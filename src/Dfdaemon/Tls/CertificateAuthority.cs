using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dragonfly.Dfdaemon.Tls;

/// <summary>
/// Creates CA certificates (<c>dfdaemon gen-ca</c>) and per-host leaf certificates signed by a CA, with
/// <see cref="CertificateRequest"/> only: ECDSA P-256 keys, SAN = the host (DNS name or IP), server-auth EKU.
/// </summary>
public sealed class CertificateAuthority
{
    private readonly X509Certificate2 _issuer;
    private readonly TimeProvider _time;

    /// <param name="issuer">A CA certificate with its private key.</param>
    public CertificateAuthority(X509Certificate2 issuer, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        if (!issuer.HasPrivateKey)
        {
            throw new ArgumentException("the CA certificate has no private key", nameof(issuer));
        }

        _issuer = issuer;
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    public X509Certificate2 Issuer => _issuer;

    /// <summary>True when <paramref name="certificate"/> may sign other certificates (basic constraints CA).</summary>
    public static bool IsCa(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
    }

    /// <summary>A new self-signed CA (ECDSA P-256) valid from an hour ago for <paramref name="validity"/>.</summary>
    public static X509Certificate2 CreateCa(string commonName, TimeSpan validity, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commonName);
        ArgumentNullException.ThrowIfNull(time);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + EscapeCn(commonName) + ", O=Dragonfly dfdaemon"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = time.GetUtcNow();
        return request.CreateSelfSigned(now.AddHours(-1), now.Add(validity));
    }

    /// <summary>Writes <paramref name="ca"/> as PEM: the certificate (0644) and the PKCS#8 private key (0600, created with that mode).</summary>
    public static void WritePem(X509Certificate2 ca, string certPath, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(ca);
        var key = (AsymmetricAlgorithm?)ca.GetECDsaPrivateKey() ?? ca.GetRSAPrivateKey() ?? throw new ArgumentException("certificate has no private key", nameof(ca));
        using (key)
        {
            var keyPem = PemEncoding.WriteString("PRIVATE KEY", key.ExportPkcs8PrivateKey());
            WriteNew(keyPath, keyPem, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        WriteNew(certPath, ca.ExportCertificatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    /// <summary>Issues a leaf certificate for <paramref name="host"/>, valid for <paramref name="validity"/> (capped at the CA's expiry).</summary>
    public X509Certificate2 IssueLeaf(string host, TimeSpan validity)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + EscapeCn(host)), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
        {
            san.AddIpAddress(ip);
        }
        else
        {
            san.AddDnsName(host);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        var now = _time.GetUtcNow();
        var notBefore = now.AddMinutes(-5);
        var notAfter = now.Add(validity);
        var issuerNotAfter = new DateTimeOffset(_issuer.NotAfter.ToUniversalTime());
        if (notAfter > issuerNotAfter)
        {
            notAfter = issuerNotAfter;
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var generator = SignatureGenerator(_issuer);
        using var unsigned = request.Create(_issuer.SubjectName, generator, notBefore, notAfter, serial);
        return unsigned.CopyWithPrivateKey(key);
    }

    private static X509SignatureGenerator SignatureGenerator(X509Certificate2 issuer)
    {
        if (issuer.GetECDsaPrivateKey() is { } ec)
        {
            return X509SignatureGenerator.CreateForECDsa(ec);
        }

        if (issuer.GetRSAPrivateKey() is { } rsa)
        {
            return X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1);
        }

        throw new NotSupportedException("the CA key must be ECDSA or RSA");
    }

    private static string EscapeCn(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal);

    private static void WriteNew(string path, string content, UnixFileMode mode)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }
}
