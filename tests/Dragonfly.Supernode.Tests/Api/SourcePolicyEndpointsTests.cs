using System.Net;
using System.Text.Json;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using static Dragonfly.Supernode.Tests.Api.ApiTestExtensions;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>A supernode whose <c>supernode.yml</c> denies 127.0.0.0/8: registrations and preheats of a loopback source are refused.</summary>
public sealed class SourcePolicyEndpointsTests : IClassFixture<SourcePolicyEndpointsTests.DenyLoopbackFactory>, IAsyncLifetime
{
    private const string Refusal = "source address 127.0.0.1 is not allowed by the supernode's source address policy (sourceAllow/sourceDeny)";
    private readonly HttpClient _client;
    private OriginServer _origin = null!;

    public SourcePolicyEndpointsTests(DenyLoopbackFactory factory) => _client = factory.CreateClient();

    public async Task InitializeAsync()
    {
        _origin = await OriginServer.StartAsync();
        _origin.AddFile("/small.bin", 1000);
        _origin.AddFile("/v2/library/busy/manifests/latest", """{"schemaVersion":2,"layers":[]}"""u8.ToArray());
    }

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Fact]
    public async Task Register_DeniedSource_500SayingTheAddressIsNotAllowedAndNoTask()
    {
        var url = _origin.Url("/small.bin").ToString();

        var (status, body, text) = await _client.PostAsync("/peer/registry", JsonBody(
            $$"""{"superNodeIp":"127.0.0.1","rawUrl":"{{url}}","taskUrl":"{{url}}","cid":"127.0.0.1-1-1.000","ip":"127.0.0.1","hostName":"h1","port":15001,"path":"/peer/file/small.bin-1-1.000"}""")).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.InternalServerError, text);
        body.GetProperty("code").GetInt32().Should().Be(500);
        body.GetProperty("message").GetString().Should().Be($$"""url {{url}}: {{Refusal}}: {"Code":12,"Msg":"url not reachable"}""");
        _origin.RequestCount.Should().Be(0);
        var taskId = Common.Identity.TaskIdentity.ComputeTaskId(url, null, null).Value;
        (await _client.GetAsync($"/api/v1/tasks/{taskId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("file", "/small.bin")]
    [InlineData("image", "/v2/library/busy/manifests/latest")]
    public async Task Preheat_DeniedSource_FailedSayingTheAddressIsNotAllowed(string type, string path)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (status, created, text) = await _client.PostAsync("/api/v1/preheats", JsonBody(
            $$"""{"type":"{{type}}","url":"{{_origin.Url(path)}}"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);

        var info = await WaitForFinishAsync(created.GetProperty("ID").GetString()!, cts.Token);

        info.GetProperty("status").GetString().Should().Be("FAILED");
        info.GetProperty("errorMsg").GetString().Should().Contain(Refusal);
        _origin.RequestCount.Should().Be(0);
    }

    private async Task<JsonElement> WaitForFinishAsync(string id, CancellationToken ct)
    {
        while (true)
        {
            var (_, info, _) = await _client.GetAsync($"/api/v1/preheats/{id}", ct).ReadJsonAsync();
            if (info.GetProperty("status").GetString() is "SUCCESS" or "FAILED")
            {
                return info;
            }

            await Task.Delay(50, ct);
        }
    }

    /// <summary>The real Program with <c>sourceDeny: [127.0.0.0/8]</c> in its config file.</summary>
    public sealed class DenyLoopbackFactory : WebApplicationFactory<Program>
    {
        private readonly TempDirectory _home = new("dragonfly-sn-policy-");

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("home-dir", _home.Path);
            builder.UseSetting("advertise-ip", "127.0.0.1");
            builder.UseSetting("config", Path.Combine(_home.Path, "supernode.yml"));
            File.WriteAllText(Path.Combine(_home.Path, "supernode.yml"), "base:\n  sourceDeny: [127.0.0.0/8]\n");
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing)
            {
                _home.Dispose();
            }
        }
    }
}
