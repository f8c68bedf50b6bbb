using System.Net;
using Dragonfly.TestCommon;
using static Dragonfly.Supernode.Tests.Api.ApiTestExtensions;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>
/// The <c>dfdaemon</c> registration field, on each wire surface, makes the scheduler hand the client its pieces lowest number
/// first (dfdaemon streams the file in order, so its first byte waits for piece 0).
/// </summary>
public sealed class StreamingClientOrderTests : IClassFixture<SupernodeApiFactory>, IAsyncLifetime
{
    private const int PieceSize = 4 * 1024 * 1024;
    private static readonly string[] FirstFourRanges = ["0-4194303", "4194304-8388607", "8388608-12582911", "12582912-16777215"];
    private readonly HttpClient _client;
    private OriginServer _origin = null!;

    public StreamingClientOrderTests(SupernodeApiFactory factory) => _client = factory.CreateClient();

    public async Task InitializeAsync() => _origin = await OriginServer.StartAsync();

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Fact]
    public async Task LegacyJsonRegistration_Dfdaemon_FirstPullIsPieces0To3InOrder()
    {
        var url = AddFile("/legacy-json.bin");
        var (status, body, text) = await _client.PostAsync("/peer/registry", JsonBody(
            $$"""{"superNodeIp":"127.0.0.1","rawUrl":"{{url}}","taskUrl":"{{url}}","cid":"127.0.0.1-31-1.000","ip":"127.0.0.1","hostName":"d1","port":15031,"path":"/peer/file/legacy-json.bin-31","version":"1.0.6","dfdaemon":true}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.OK, text);
        var taskId = body.GetProperty("data").GetProperty("taskId").GetString()!;

        (await LegacyFirstPullAsync(taskId, "127.0.0.1-31-1.000")).Should().Equal(FirstFourRanges);
    }

    [Fact]
    public async Task LegacyFormRegistration_Dfdaemon_FirstPullIsPieces0To3InOrder()
    {
        var url = AddFile("/legacy-form.bin");
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["rawUrl"] = url, ["cid"] = "127.0.0.1-32-1.000", ["ip"] = "127.0.0.1", ["hostName"] = "d2", ["port"] = "15032",
            ["path"] = "/peer/file/legacy-form.bin-32", ["dfdaemon"] = "true",
        });
        var (status, body, text) = await _client.PostAsync("/peer/registry", form).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.OK, text);
        var taskId = body.GetProperty("data").GetProperty("taskId").GetString()!;

        (await LegacyFirstPullAsync(taskId, "127.0.0.1-32-1.000")).Should().Equal(FirstFourRanges);
    }

    [Fact]
    public async Task V1TaskCreate_Dfdaemon_FirstPullIsPieces0To3InOrder()
    {
        var url = AddFile("/v1-stream.bin");
        var (_, peer, _) = await _client.PostAsync("/api/v1/peers", JsonBody("""{"IP":"127.0.0.1","hostName":"d3","port":15033}""")).ReadJsonAsync();
        var (status, created, text) = await _client.PostAsync("/api/v1/tasks", JsonBody(
            $$"""{"cID":"127.0.0.1-33-1.000","rawURL":"{{url}}","path":"/peer/file/v1-stream.bin-33","peerID":"{{peer.GetProperty("ID").GetString()}}","supernodeIP":"127.0.0.1","dfdaemon":true}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);
        var taskId = created.GetProperty("ID").GetString()!;
        await WaitForCdnAsync(taskId);

        var (pullStatus, pull, pullText) = await _client.GetAsync($"/api/v1/tasks/{taskId}/pieces?clientID=127.0.0.1-33-1.000&dfgetTaskStatus=STARTED").ReadJsonAsync();

        pullStatus.Should().Be(HttpStatusCode.OK, pullText);
        pull.GetProperty("state").GetString().Should().Be("continue");
        pull.GetProperty("pieces").EnumerateArray().Select(p => p.GetProperty("pieceRange").GetString()).Should().Equal(FirstFourRanges);
    }

    /// <summary>A 10-piece file: rarest-first with random ties would start with pieces 0..3 in this order once in 5,040 pulls.</summary>
    private string AddFile(string path)
    {
        _origin.AddFile(path, (10L * (PieceSize - 5)) - 100, seed: path.Length);
        return _origin.Url(path).ToString();
    }

    private async Task<IReadOnlyList<string?>> LegacyFirstPullAsync(string taskId, string cid)
    {
        await WaitForCdnAsync(taskId);
        var (status, body, text) = await _client.GetAsync($"/peer/task?srcCid={cid}&dstCid=&range=&result=502&status=700&taskId={taskId}").ReadJsonAsync();
        status.Should().Be(HttpStatusCode.OK, text);
        body.GetProperty("code").GetInt32().Should().Be(601, text);
        return body.GetProperty("data").EnumerateArray().Select(p => p.GetProperty("range").GetString()).ToList();
    }

    /// <summary>Waits until the CDN has the whole file, so every piece is a candidate in the first pull.</summary>
    private async Task WaitForCdnAsync(string taskId)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var (_, info, _) = await _client.GetAsync($"/api/v1/tasks/{taskId}", cts.Token).ReadJsonAsync();
            if (info.GetProperty("cdnStatus").GetString() == "SUCCESS")
            {
                return;
            }

            await Task.Delay(25, cts.Token);
        }
    }
}
