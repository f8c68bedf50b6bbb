using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dragonfly.Common.Http;
using Dragonfly.Common.Logging;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Origin;

/// <summary>
/// <see cref="IOriginClient"/> over one long-lived <see cref="SocketsHttpHandler"/> per TLS setting (default, insecure,
/// or a custom root store built from the client's PEM CAs). Source headers, including Authorization, pass through.
/// Every connection, redirects included, is opened by the <see cref="SourceConnector"/> under the operator's source
/// address policy; a refused address probes as <see cref="OriginProbeStatus.AddressNotAllowed"/> and fails a GET with an
/// <see cref="HttpRequestException"/> whose inner exception is a <see cref="SourceAddressNotAllowedException"/>.
/// </summary>
public sealed partial class OriginClient : IOriginClient, IDisposable
{
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(4);
    private const int MaxInvokers = 64;

    private static readonly HashSet<string> SkippedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Proxy-Connection", "TE", "Trailer",
    };

    private readonly ConcurrentDictionary<string, HttpMessageInvoker> _invokers = new(StringComparer.Ordinal);
    private readonly SourceConnector _connector;
    private readonly ILogger<OriginClient> _logger;

    /// <param name="connector">Opens every connection to a source under the operator's source address policy.</param>
    public OriginClient(SourceConnector connector, ILogger<OriginClient> logger)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(logger);
        _connector = connector;
        _logger = logger;
    }

    public async Task<OriginProbe> ProbeAsync(OriginRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            // The original probes with a plain GET and reads only the headers, but the origin still pushes body bytes
            // until the connection closes. Asking for one byte keeps origin egress at one copy of the file; the total
            // length comes from Content-Range. A task whose own headers carry a Range keeps the original probe.
            var ranged = !request.Headers.Keys.Any(k => string.Equals(k, "Range", StringComparison.OrdinalIgnoreCase));
            using var response = await GetAsync(request, ranged ? OneByteRange : null, timeout.Token);
            var status = (int)response.StatusCode;
            if (ranged && response.StatusCode is HttpStatusCode.PartialContent or HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // 416 answers a one-byte range on an empty file: "Content-Range: bytes */0".
                var total = response.Content.Headers.ContentRange?.Length;
                if (total is not null)
                {
                    return new OriginProbe(OriginProbeStatus.Ok, total.Value, (int)HttpStatusCode.OK);
                }

                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    return new OriginProbe(OriginProbeStatus.Ok, -1, status);
                }
            }

            return response.StatusCode switch
            {
                HttpStatusCode.OK => new OriginProbe(OriginProbeStatus.Ok, response.Content.Headers.ContentLength ?? -1, status),
                HttpStatusCode.PartialContent when !ranged =>
                    new OriginProbe(OriginProbeStatus.Ok, response.Content.Headers.ContentLength ?? -1, status),
                HttpStatusCode.PartialContent => new OriginProbe(OriginProbeStatus.Ok, -1, status),
                HttpStatusCode.Unauthorized or HttpStatusCode.ProxyAuthenticationRequired =>
                    new OriginProbe(OriginProbeStatus.AuthenticationRequired, -1, status, $"source answered {status}"),
                HttpStatusCode.NotFound => new OriginProbe(OriginProbeStatus.NotFound, -1, status, "source answered 404"),
                _ => new OriginProbe(OriginProbeStatus.Ok, -1, status),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.ProbeFailed(_logger, request.Url, "timeout");
            return new OriginProbe(OriginProbeStatus.Unreachable, -1, 0, "timeout");
        }
        catch (HttpRequestException e) when (SourceAddressNotAllowedException.Find(e) is { } refused)
        {
            Log.ProbeFailed(_logger, request.Url, refused.Message);
            return new OriginProbe(OriginProbeStatus.AddressNotAllowed, -1, 0, refused.Message);
        }
        catch (HttpRequestException e)
        {
            Log.ProbeFailed(_logger, request.Url, e.Message);
            return new OriginProbe(OriginProbeStatus.Unreachable, -1, 0, e.Message);
        }
    }

    private static readonly FrozenDictionary<string, string> OneByteRange =
        new Dictionary<string, string> { ["Range"] = "bytes=0-0" }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public async Task<bool> SupportsRangeAsync(OriginRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            using var response = await GetAsync(request, OneByteRange, timeout.Token);
            return response.StatusCode == HttpStatusCode.PartialContent;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public Task<HttpResponseMessage> GetAsync(OriginRequest request, IReadOnlyDictionary<string, string>? extraHeaders, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var message = new HttpRequestMessage(HttpMethod.Get, request.Url);
        foreach (var (name, value) in request.Headers)
        {
            if (!SkippedHeaders.Contains(name) && (extraHeaders is null || !extraHeaders.ContainsKey(name)))
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (extraHeaders is not null)
        {
            foreach (var (name, value) in extraHeaders)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return SendAsync(Invoker(request), message, cancellationToken);
    }

    public void Dispose()
    {
        foreach (var invoker in _invokers.Values)
        {
            invoker.Dispose();
        }

        _invokers.Clear();
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpMessageInvoker invoker, HttpRequestMessage message, CancellationToken cancellationToken)
    {
        using (message)
        {
            // HttpMessageInvoker never buffers the body: the caller streams it (ResponseHeadersRead semantics).
            return await invoker.SendAsync(message, cancellationToken);
        }
    }

    private HttpMessageInvoker Invoker(OriginRequest request)
    {
        var key = InvokerKey(request);
        if (_invokers.TryGetValue(key, out var invoker))
        {
            return invoker;
        }

        if (_invokers.Count >= MaxInvokers && key.Length > 1)
        {
            // Bound the cache against many distinct CA sets. Evicted handlers are not disposed, because a download may
            // still be streaming through them; they are collected once their responses are gone.
            foreach (var stale in _invokers.Keys.Where(k => k.Length > 1).Take(_invokers.Count / 2))
            {
                _invokers.TryRemove(stale, out _);
            }
        }

        var created = new HttpMessageInvoker(new SocketErrorHandler(CreateHandler(request)), disposeHandler: true);
        var winner = _invokers.GetOrAdd(key, created);
        if (!ReferenceEquals(winner, created))
        {
            created.Dispose();
        }

        return winner;
    }

    private static string InvokerKey(OriginRequest request)
    {
        if (request.Insecure)
        {
            return "i";
        }

        if (request.RootCAs is not { Count: > 0 } cas)
        {
            return "d";
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var ca in cas)
        {
            hash.AppendData(ca);
        }

        return "c" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private SocketsHttpHandler CreateHandler(OriginRequest request)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 10,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        _connector.Apply(handler);

        if (request.Insecure)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            };
        }
        else if (request.RootCAs is { Count: > 0 } cas)
        {
            var roots = LoadRoots(cas);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => ValidateWithRoots(certificate, errors, roots),
            };
        }

        return handler;
    }

    /// <summary>Parses each entry as PEM (one or more certificates) or DER.</summary>
    internal static X509Certificate2Collection LoadRoots(IReadOnlyList<byte[]> cas)
    {
        var roots = new X509Certificate2Collection();
        foreach (var ca in cas)
        {
            try
            {
                var text = System.Text.Encoding.ASCII.GetString(ca);
                if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
                {
                    roots.ImportFromPem(text);
                }
                else
                {
                    roots.Add(X509CertificateLoader.LoadCertificate(ca));
                }
            }
            catch (CryptographicException)
            {
                // An unreadable CA adds no trust; verification then fails for that host.
            }
        }

        return roots;
    }

    private static bool ValidateWithRoots(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.SupernodeCdn + 90, Level = LogLevel.Information, Message = "Probe of {Url} failed: {Reason}")]
        public static partial void ProbeFailed(ILogger logger, Uri url, string reason);
    }
}
