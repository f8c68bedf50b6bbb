using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Dragonfly.Common.Http;

namespace Dragonfly.Dfget.Registration;

/// <summary>
/// The long-lived HTTP clients of the engine, one handler per purpose: supernode API (5 s timeout), peer pieces
/// (no proxy, no redirects, per-request timeout), origin (back-source; redirects followed).
/// </summary>
public sealed class DfgetHttpClients : IDisposable
{
    public static readonly TimeSpan SupernodeTimeout = TimeSpan.FromSeconds(5);

    public DfgetHttpClients()
    {
        Supernode = new HttpClient(new SocketErrorHandler(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            UseProxy = false,
            AllowAutoRedirect = false,
        }))
        {
            Timeout = SupernodeTimeout,
        };
        Peer = new HttpClient(new SocketErrorHandler(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(3),
            UseProxy = false,
            AllowAutoRedirect = false,
            MaxConnectionsPerServer = 16,
        }))
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        Origin = CreateOriginClient(insecure: false, []);
    }

    public HttpClient Supernode { get; }

    public HttpClient Peer { get; }

    public HttpClient Origin { get; }

    /// <summary>An origin client with custom TLS trust (<c>--insecure</c> / <c>--cacerts</c>); the caller disposes it.</summary>
    public static HttpClient CreateOriginClient(bool insecure, IReadOnlyList<byte[]> caCerts)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AllowAutoRedirect = true,
        };
        if (insecure)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
        }
        else if (caCerts.Count > 0)
        {
            var roots = new X509Certificate2Collection();
            foreach (var pem in caCerts)
            {
                roots.ImportFromPem(System.Text.Encoding.ASCII.GetString(pem));
            }

            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (errors == SslPolicyErrors.None)
                    {
                        return true;
                    }

                    if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                    {
                        return false;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                },
            };
        }

        return new HttpClient(new SocketErrorHandler(handler)) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public void Dispose()
    {
        Supernode.Dispose();
        Peer.Dispose();
        Origin.Dispose();
    }
}
