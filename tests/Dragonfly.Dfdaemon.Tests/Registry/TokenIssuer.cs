using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.Dfdaemon.Tls;
using Microsoft.AspNetCore.Http;

namespace Dragonfly.Dfdaemon.Tests.Registry;

/// <summary>
/// A minimal Docker registry token server (distribution "token" auth) on real Kestrel: checks Basic credentials and issues an
/// ES256 JWT with an <c>x5c</c> header signed by a test CA that the registry trusts (<c>rootcertbundle</c>).
/// </summary>
public sealed class TokenIssuer : IAsyncDisposable
{
    public const string Service = "dragonfly-test-registry";
    public const string Issuer = "dragonfly-test-issuer";
    public const string User = "alice";
    public const string Password = "wonderland";

    private readonly X509Certificate2 _signer;
    private readonly TestUpstream _server;
    private int _issued;

    private TokenIssuer(X509Certificate2 signer, TestUpstream server)
    {
        _signer = signer;
        _server = server;
    }

    public Uri Realm => new(_server.Address, "token");

    public int Issued => Volatile.Read(ref _issued);

    public string? LastAuthorization { get; private set; }

    public static async Task<TokenIssuer> StartAsync(string rootBundlePath)
    {
        var signer = CertificateAuthority.CreateCa("token signer", TimeSpan.FromDays(1), TimeProvider.System);
        await File.WriteAllTextAsync(rootBundlePath, signer.ExportCertificatePem());
        TokenIssuer? issuer = null;
        var server = await TestUpstream.StartAsync(ctx => issuer!.HandleAsync(ctx));
        issuer = new TokenIssuer(signer, server);
        return issuer;
    }

    /// <summary>A pull token for <paramref name="scope"/> (e.g. <c>repository:private/demo:pull</c>), as docker would get one.</summary>
    public async Task<string> RequestTokenAsync(string scope, CancellationToken cancellationToken)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Realm}?service={Service}&scope={Uri.EscapeDataString(scope)}");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":" + Password)));
        using var response = await client.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return json.RootElement.GetProperty("token").GetString()!;
    }

    private async Task HandleAsync(HttpContext context)
    {
        LastAuthorization = context.Request.Headers.Authorization.ToString() + " " + context.Request.Method + " " + context.Request.QueryString;
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":" + Password));
        if (context.Request.Headers.Authorization != expected)
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"token\"";
            return;
        }

        var scopes = context.Request.Query["scope"].Where(s => s is not null).Select(s => s!).ToList();
        var access = scopes.Select(s => s.Split(':')).Where(p => p.Length == 3)
            .Select(p => new Dictionary<string, object> { ["type"] = p[0], ["name"] = p[1], ["actions"] = p[2].Split(',') }).ToList();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new Dictionary<string, object> { ["alg"] = "ES256", ["typ"] = "JWT", ["x5c"] = new[] { Convert.ToBase64String(_signer.RawData) } };
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = User,
            ["aud"] = Service,
            ["exp"] = now + 600,
            ["nbf"] = now - 60,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = B64(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + B64(JsonSerializer.SerializeToUtf8Bytes(claims));
        using var key = _signer.GetECDsaPrivateKey()!;
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        var token = signingInput + "." + B64(signature);
        Interlocked.Increment(ref _issued);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { token, access_token = token, expires_in = 600 }));
    }

    private static string B64(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _signer.Dispose();
    }
}
