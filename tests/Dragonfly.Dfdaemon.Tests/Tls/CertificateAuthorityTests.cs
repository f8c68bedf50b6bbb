using System.Security.Cryptography.X509Certificates;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Tls;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfdaemon.Tests.Tls;

public class CertificateAuthorityTests
{
    [Theory]
    [InlineData("registry.example")]
    [InlineData("127.0.0.1")]
    public void IssueLeaf_Host_ChainsToCaWithSanForHost(string host)
    {
        using var ca = CertificateAuthority.CreateCa("test CA", TimeSpan.FromDays(30), TimeProvider.System);
        using var leaf = new CertificateAuthority(ca, TimeProvider.System).IssueLeaf(host, TimeSpan.FromHours(24));

        leaf.HasPrivateKey.Should().BeTrue();
        leaf.MatchesHostname(host).Should().BeTrue();
        leaf.MatchesHostname("other.example").Should().BeFalse();
        (leaf.NotAfter - leaf.NotBefore).Should().BeCloseTo(TimeSpan.FromHours(24), TimeSpan.FromMinutes(10));
        leaf.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority.Should().BeFalse();

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1"));
        chain.Build(leaf).Should().BeTrue(string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        chain.ChainElements[^1].Certificate.Thumbprint.Should().Be(ca.Thumbprint);
    }

    [Fact]
    public void IssueLeaf_UntrustedCa_DoesNotChain()
    {
        using var ca = CertificateAuthority.CreateCa("test CA", TimeSpan.FromDays(30), TimeProvider.System);
        using var other = CertificateAuthority.CreateCa("other CA", TimeSpan.FromDays(30), TimeProvider.System);
        using var leaf = new CertificateAuthority(ca, TimeProvider.System).IssueLeaf("a.example", TimeSpan.FromHours(24));
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(other);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.Build(leaf).Should().BeFalse();
    }

    [Fact]
    public void HijackCertificateStore_SameHost_CachedAndBoundedLru()
    {
        using var dir = new TempDirectory();
        using (var ca = CertificateAuthority.CreateCa("test CA", TimeSpan.FromDays(30), TimeProvider.System))
        {
            CertificateAuthority.WritePem(ca, dir.Combine("ca.crt"), dir.Combine("ca.key"));
        }

        using var store = new HijackCertificateStore(new HijackHttpsOptions(dir.Combine("ca.crt"), dir.Combine("ca.key"), []), TimeProvider.System);
        var first = store.For("a.example");
        store.For("a.example").Should().BeSameAs(first);
        for (var i = 0; i < HijackCertificateStore.Capacity + 5; i++)
        {
            store.For($"h{i}.example");
        }

        store.CachedCount.Should().Be(HijackCertificateStore.Capacity);
        store.For("a.example").Should().NotBeSameAs(first, "the least recently used host was evicted");
    }
}
