using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dragonfly.Common.Http;
using Dragonfly.Supernode.Origin;

namespace Dragonfly.Supernode.Preheat;

/// <summary>
/// Fetches image manifests for image preheats: GET with every manifest media type in <c>Accept</c>; on 401 with a Bearer
/// challenge it fetches a token once and retries. One long-lived handler; bodies are capped at 4 MiB. Its connections
/// (the registry, the token realm, redirects) are opened by the <see cref="SourceConnector"/>, under the same source
/// address policy as the layer downloads.
/// </summary>
internal sealed class RegistryClient : IDisposable
{
    private const int MaxManifestBytes = 4 * 1024 * 1024;
    private readonly HttpClient _http;

    public RegistryClient(SourceConnector connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AllowAutoRedirect = true,
            AutomaticDecompression = DecompressionMethods.All,
        };
        connector.Apply(handler);
        _http = new HttpClient(new SocketErrorHandler(handler))
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>The manifest body, and the <c>Authorization</c> value that worked (to pass on to the layer downloads).</summary>
    public async Task<(byte[] Body, string? Authorization)> GetManifestAsync(string url, IReadOnlyDictionary<string, string> headers, string? authorization, CancellationToken cancellationToken)
    {
        using (var first = await SendAsync(url, headers, authorization, cancellationToken).ConfigureAwait(false))
        {
            if (first.IsSuccessStatusCode)
            {
                return (await ReadAsync(first, cancellationToken).ConfigureAwait(false), authorization);
            }

            if (first.StatusCode != HttpStatusCode.Unauthorized ||
                !BearerChallenge.TryParse(first.Headers.WwwAuthenticate.ToString(), out var challenge))
            {
                throw new HttpRequestException($"GET {url}: HTTP {(int)first.StatusCode}", null, first.StatusCode);
            }

            var token = await FetchTokenAsync(challenge, headers, cancellationToken).ConfigureAwait(false);
            authorization = "Bearer " + token;
        }

        using var second = await SendAsync(url, headers, authorization, cancellationToken).ConfigureAwait(false);
        if (!second.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {url} with token: HTTP {(int)second.StatusCode}", null, second.StatusCode);
        }

        return (await ReadAsync(second, cancellationToken).ConfigureAwait(false), authorization);
    }

    public void Dispose() => _http.Dispose();

    private async Task<string> FetchTokenAsync(BearerChallenge challenge, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, challenge.TokenUri());
        if (headers.FirstOrDefault(h => h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase)) is { Value: { } basic } &&
            basic.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            request.Headers.TryAddWithoutValidation("Authorization", basic);
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"token request to {challenge.Realm}: HTTP {(int)response.StatusCode}", null, response.StatusCode);
        }

        var body = await ReadAsync(response, cancellationToken).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(body);
        foreach (var name in new[] { "token", "access_token" })
        {
            if (doc.RootElement.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(t.GetString()))
            {
                return t.GetString()!;
            }
        }

        throw new HttpRequestException($"token response from {challenge.Realm} has no token");
    }

    private async Task<HttpResponseMessage> SendAsync(string url, IReadOnlyDictionary<string, string> headers, string? authorization, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        foreach (var (key, value) in headers)
        {
            if (!key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || authorization is null)
            {
                request.Headers.TryAddWithoutValidation(key, value);
            }
        }

        request.Headers.Accept.Clear();
        foreach (var type in ManifestParser.AcceptHeader.Split(", "))
        {
            request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(type));
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxManifestBytes)
        {
            throw new HttpRequestException($"manifest larger than {MaxManifestBytes} bytes");
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxManifestBytes)
                {
                    throw new HttpRequestException($"manifest larger than {MaxManifestBytes} bytes");
                }

                await buffer.WriteAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            return buffer.ToArray();
        }
    }
}
