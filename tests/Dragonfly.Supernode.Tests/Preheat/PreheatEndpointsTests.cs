using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dragonfly.Supernode.Tests.Api;
using Dragonfly.Supernode.Tests.EndToEnd;
using Dragonfly.TestCommon;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Dragonfly.Supernode.Tests.Api.ApiTestExtensions;

namespace Dragonfly.Supernode.Tests.Preheat;

/// <summary>Preheats (§1.7) through the real Program: file and image preheats run the in-process registration + CDN path.</summary>
public sealed class PreheatEndpointsTests : IClassFixture<SupernodeApiFactory>, IAsyncLifetime
{
    private readonly HttpClient _client;
    private OriginServer _origin = null!;

    public PreheatEndpointsTests(SupernodeApiFactory factory) => _client = factory.CreateClient();

    public async Task InitializeAsync() => _origin = await OriginServer.StartAsync();

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Fact]
    public async Task FilePreheat_Create_RunsToSuccessThen208OnRecreate()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        _origin.AddFile("/preheat/file.bin", 300_000, seed: 11);
        var body = $$"""{"type":"file","url":"{{_origin.Url("/preheat/file.bin")}}"}""";

        var (status, created, text) = await _client.PostAsync("/api/v1/preheats", JsonBody(body)).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);
        var id = created.GetProperty("ID").GetString()!;
        id.Should().MatchRegex("^[0-9a-f]{64}$");

        var info = await WaitForFinishAsync(id, cts.Token);
        info.GetProperty("status").GetString().Should().Be("SUCCESS", info.ToString());
        info.TryGetProperty("finishTime", out _).Should().BeTrue();
        _origin.Requests.Should().Contain(r => r.Path == "/preheat/file.bin" && r.Method == "GET");

        var (again, error, _) = await _client.PostAsync("/preheats", JsonBody(body)).ReadJsonAsync();
        again.Should().Be((HttpStatusCode)208);
        error.GetProperty("message").GetString().Should().Be($"preheat task already exists, id:{id}");

        var (listStatus, list, listText) = await _client.GetAsync("/api/v1/preheats").ReadJsonAsync();
        listStatus.Should().Be(HttpStatusCode.OK);
        var record = list.EnumerateArray().Single(p => p.GetProperty("ID").GetString() == id);
        record.GetProperty("URL").GetString().Should().Be(_origin.Url("/preheat/file.bin").ToString());
        record.GetProperty("Type").GetString().Should().Be("file");
        record.GetProperty("Status").GetString().Should().Be("SUCCESS");
        record.GetProperty("StartTime").ValueKind.Should().Be(JsonValueKind.Number, listText);

        (await _client.DeleteAsync($"/api/v1/preheats/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetAsync($"/api/v1/preheats/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Create_AfterThePreheatServiceStopped_503SupernodeStopping()
    {
        using var stopped = new SupernodeApiFactory();
        using var client = stopped.CreateClient();
        stopped.Services.GetRequiredService<Dragonfly.Supernode.Preheat.PreheatService>().Dispose();

        var (status, body, text) = await client.PostAsync("/api/v1/preheats", JsonBody($$"""{"type":"file","url":"{{_origin.Url("/preheat/late.bin")}}"}""")).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.ServiceUnavailable, text);
        body.GetProperty("code").GetInt32().Should().Be(503);
        body.GetProperty("message").GetString().Should().Be("supernode stopping");
        (await client.GetStringAsync("/api/v1/preheats")).Should().Be("[]");
    }

    /// <summary>
    /// The host has begun to stop (<c>IHostApplicationLifetime.ApplicationStopping</c>; a host started without Run keeps
    /// serving, as Kestrel does while it drains): a preheat made now would only be cancelled again, so it is refused.
    /// Real Kestrel, the real composition.
    /// </summary>
    [Fact]
    public async Task Create_AfterTheHostBeganToStop_503SupernodeStopping()
    {
        await using var host = await SupernodeTestHost.StartAsync();
        using var client = new HttpClient { BaseAddress = host.Api };
        host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        var (status, body, text) = await client.PostAsync("/api/v1/preheats", JsonBody($$"""{"type":"file","url":"{{_origin.Url("/preheat/stopping.bin")}}"}""")).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.ServiceUnavailable, text);
        body.GetProperty("message").GetString().Should().Be("supernode stopping");
        (await client.GetStringAsync("/api/v1/preheats")).Should().Be("[]");
    }

    [Fact]
    public async Task FilePreheat_MissingSource_Failed()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (status, created, _) = await _client.PostAsync("/api/v1/preheats", JsonBody($$"""{"type":"file","url":"{{_origin.Url("/preheat/none.bin")}}"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created);

        var info = await WaitForFinishAsync(created.GetProperty("ID").GetString()!, cts.Token);

        info.GetProperty("status").GetString().Should().Be("FAILED");
        info.GetProperty("errorMsg").GetString().Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task ImagePreheat_Schema2Manifest_OneChildPerLayerAllSucceed()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var layers = new[] { _origin.AddFile("/l1", 1000, 21).ReadAll(), _origin.AddFile("/l2", 2000, 22).ReadAll() };
        var digests = layers.Select(l => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(l))).ToArray();
        for (var i = 0; i < layers.Length; i++)
        {
            _origin.AddFile($"/v2/library/busy/blobs/{digests[i]}", layers[i]);
        }

        var manifest = $$"""
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
             "config":{"digest":"sha256:{{new string('0', 64)}}","size":10},
             "layers":[{"digest":"{{digests[0]}}","size":1000},{"digest":"{{digests[1]}}","size":2000},{"digest":"{{digests[0]}}","size":1000}]}
            """;
        _origin.AddFile("/v2/library/busy/manifests/latest", Encoding.UTF8.GetBytes(manifest));

        var (status, created, text) = await _client.PostAsync("/api/v1/preheats", JsonBody(
            $$"""{"type":"image","url":"{{_origin.Url("/v2/library/busy/manifests/latest")}}"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);
        var id = created.GetProperty("ID").GetString()!;

        var info = await WaitForFinishAsync(id, cts.Token);
        info.GetProperty("status").GetString().Should().Be("SUCCESS", info.ToString());

        var (_, list, _) = await _client.GetAsync("/api/v1/preheats").ReadJsonAsync();
        var parent = list.EnumerateArray().Single(p => p.GetProperty("ID").GetString() == id);
        var children = parent.GetProperty("Children").EnumerateArray().Select(c => c.GetString()).ToList();
        children.Should().HaveCount(2);
        var childRecords = list.EnumerateArray().Where(p => children.Contains(p.GetProperty("ID").GetString())).ToList();
        childRecords.Should().HaveCount(2).And.OnlyContain(c => c.GetProperty("ParentID").GetString() == id && c.GetProperty("Status").GetString() == "SUCCESS");
        childRecords.Select(c => c.GetProperty("URL").GetString()).Should().BeEquivalentTo(digests.Select(d => _origin.Url($"/v2/library/busy/blobs/{d}").ToString()));
    }

    [Fact]
    public async Task ImagePreheat_IndexNamingMoreThanMaxLayers_FailsWithClearMessageAndNoChildren()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var children = new[] { Digest('1', 0), Digest('2', 0) };
        _origin.AddFile("/v2/library/huge/manifests/latest", Encoding.UTF8.GetBytes(
            $$"""{"schemaVersion":2,"manifests":[{"digest":"{{children[0]}}"},{"digest":"{{children[1]}}"}]}"""));
        for (var c = 0; c < children.Length; c++)
        {
            var layers = string.Join(',', Enumerable.Range(0, 600).Select(i => $$"""{"digest":"{{Digest((char)('a' + c), i)}}"}"""));
            _origin.AddFile($"/v2/library/huge/manifests/{children[c]}", Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"layers":[{{layers}}]}"""));
        }

        var (status, created, text) = await _client.PostAsync("/api/v1/preheats", JsonBody(
            $$"""{"type":"image","url":"{{_origin.Url("/v2/library/huge/manifests/latest")}}"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);

        var info = await WaitForFinishAsync(created.GetProperty("ID").GetString()!, cts.Token);

        info.GetProperty("status").GetString().Should().Be("FAILED");
        info.GetProperty("errorMsg").GetString().Should().Contain("more than 1000 layers");
        _origin.Requests.Should().NotContain(r => r.Path.Contains("/blobs/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ImagePreheat_ManyLayers_RunsAFewChildrenAtATime()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var digests = Enumerable.Range(0, 8).Select(i => Digest('c', i)).ToArray();
        var blobs = digests.Select((d, i) => _origin.AddFile($"/v2/library/wide/blobs/{d}", 5000, seed: 40 + i)).ToArray();
        foreach (var blob in blobs)
        {
            blob.HoldAfterBytes = 100;
        }

        var layers = string.Join(',', digests.Select(d => $$"""{"digest":"{{d}}"}"""));
        _origin.AddFile("/v2/library/wide/manifests/latest", Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"layers":[{{layers}}]}"""));
        var (status, created, text) = await _client.PostAsync("/api/v1/preheats", JsonBody(
            $$"""{"type":"image","url":"{{_origin.Url("/v2/library/wide/manifests/latest")}}"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);
        var id = created.GetProperty("ID").GetString()!;

        // While every layer download is held, four children run and the other four wait for a slot.
        var statuses = await ChildStatusesAsync(id, cts.Token);
        while (statuses.Count(s => s == "RUNNING") < 4)
        {
            await Task.Delay(20, cts.Token);
            statuses = await ChildStatusesAsync(id, cts.Token);
        }

        await Task.Delay(300, cts.Token);
        statuses = await ChildStatusesAsync(id, cts.Token);
        statuses.Count(s => s == "RUNNING").Should().Be(4, string.Join(',', statuses));
        statuses.Count(s => s == "WAITING").Should().Be(4, string.Join(',', statuses));

        foreach (var blob in blobs)
        {
            blob.HoldAfterBytes = null;
            blob.Release();
        }

        (await WaitForFinishAsync(id, cts.Token)).GetProperty("status").GetString().Should().Be("SUCCESS");
    }

    private static string Digest(char kind, int n) => "sha256:" + kind + n.ToString("D63", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<List<string>> ChildStatusesAsync(string parentId, CancellationToken ct)
    {
        var (_, list, _) = await _client.GetAsync("/api/v1/preheats", ct).ReadJsonAsync();
        return list.EnumerateArray()
            .Where(p => p.TryGetProperty("ParentID", out var parent) && parent.GetString() == parentId)
            .Select(p => p.GetProperty("Status").GetString()!)
            .ToList();
    }

    [Theory]
    [InlineData("""{"type":"video","url":"http://x/y"}""")]
    [InlineData("""{"type":99,"url":"http://x/y"}""")]
    [InlineData("""{"type":-1,"url":"http://x/y"}""")]
    [InlineData("""{"url":"http://x/y"}""")]
    [InlineData("""{"type":"file"}""")]
    [InlineData("""{"type":"file","url":"ab"}""")]
    [InlineData("""{"type":"file","url":"ftp://host/file"}""")]
    [InlineData("""{"type":"image","url":"http://registry/library/busy/latest"}""")]
    [InlineData("{")]
    public async Task Create_BadInput_400(string json)
    {
        var (status, body, text) = await _client.PostAsync("/api/v1/preheats", JsonBody(json)).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.BadRequest, text);
        body.GetProperty("code").GetInt32().Should().Be(400);
    }

    [Fact]
    public async Task GetAndDelete_Unknown_404()
    {
        (await _client.GetAsync("/api/v1/preheats/nothing")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _client.DeleteAsync("/preheats/nothing")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    private async Task<JsonElement> WaitForFinishAsync(string id, CancellationToken ct)
    {
        while (true)
        {
            var (status, info, text) = await _client.GetAsync($"/api/v1/preheats/{id}", ct).ReadJsonAsync();
            status.Should().Be(HttpStatusCode.OK, text);
            if (info.GetProperty("status").GetString() is "SUCCESS" or "FAILED")
            {
                return info;
            }

            await Task.Delay(50, ct);
        }
    }
}
