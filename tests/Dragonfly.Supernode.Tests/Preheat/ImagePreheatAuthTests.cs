using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dragonfly.Supernode.Tests.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Dragonfly.Supernode.Tests.Api.ApiTestExtensions;

namespace Dragonfly.Supernode.Tests.Preheat;

/// <summary>
/// An image preheat against a registry that wants a Bearer token: 401 + <c>WWW-Authenticate: Bearer realm,service,scope</c>
/// → token fetched once → OCI index → child manifest → one file preheat per layer, with the token passed on to the CDN.
/// </summary>
public sealed class ImagePreheatAuthTests(SupernodeApiFactory factory) : IClassFixture<SupernodeApiFactory>
{
    private const string Token = "tok-123";

    [Fact]
    public async Task ImagePreheat_BearerChallengeAndIndex_AllLayersPreheatedWithToken()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var layers = new[] { Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray(), Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray() };
        var digests = layers.Select(l => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(l))).ToArray();
        var child = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.manifest.v1+json",
            layers = digests.Select(d => new { digest = d, size = 1 }),
        }));
        var childDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(child));
        var index = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.index.v1+json",
            manifests = new[] { new { digest = childDigest, size = child.Length } },
        }));

        var tokenRequests = 0;
        var unauthorizedBlobRequests = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        await using var registry = builder.Build();
        registry.Run(async context =>
        {
            var path = context.Request.Path.Value!;
            if (path == "/token")
            {
                Interlocked.Increment(ref tokenRequests);
                context.Request.Query["scope"].ToString().Should().Be("repository:library/busy:pull");
                await context.Response.WriteAsJsonAsync(new { token = Token });
                return;
            }

            if (context.Request.Headers.Authorization.ToString() != "Bearer " + Token)
            {
                if (path.Contains("/blobs/", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref unauthorizedBlobRequests);
                }

                var self = $"http://{context.Request.Host}";
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{self}/token\",service=\"registry.test\",scope=\"repository:library/busy:pull\"";
                return;
            }

            byte[]? body = path switch
            {
                "/v2/library/busy/manifests/latest" => index,
                _ when path == $"/v2/library/busy/manifests/{childDigest}" => child,
                _ when path == $"/v2/library/busy/blobs/{digests[0]}" => layers[0],
                _ when path == $"/v2/library/busy/blobs/{digests[1]}" => layers[1],
                _ => null,
            };
            if (body is null)
            {
                context.Response.StatusCode = 404;
                return;
            }

            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body);
        });
        await registry.StartAsync(cts.Token);
        var port = new Uri(registry.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        var client = factory.CreateClient();

        var (status, created, text) = await client.PostAsync("/api/v1/preheats", JsonBody(
            $$"""{"type":"image","url":"http://127.0.0.1:{{port}}/v2/library/busy/manifests/latest"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);
        var id = created.GetProperty("ID").GetString()!;

        JsonElement info;
        do
        {
            await Task.Delay(50, cts.Token);
            (_, info, _) = await client.GetAsync($"/api/v1/preheats/{id}", cts.Token).ReadJsonAsync();
        }
        while (info.GetProperty("status").GetString() is "WAITING" or "RUNNING");

        info.GetProperty("status").GetString().Should().Be("SUCCESS", info.ToString());
        tokenRequests.Should().Be(1);
        unauthorizedBlobRequests.Should().Be(0, "the token obtained for the manifest is passed on to the layer downloads");
        var (_, list, listText) = await client.GetAsync("/api/v1/preheats", cts.Token).ReadJsonAsync();
        list.EnumerateArray().Single(p => p.GetProperty("ID").GetString() == id).GetProperty("Children").GetArrayLength().Should().Be(2);

        // The layer children carry the token the supernode obtained; the listing must not hand it out.
        listText.Should().NotContain(Token).And.Contain("\"Authorization\":\"<redacted>\"", listText);
        await registry.StopAsync(cts.Token);
    }
}
