using System.Net;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.PieceErrors;
using Dragonfly.TestCommon;
using Microsoft.Extensions.DependencyInjection;
using static Dragonfly.Supernode.Tests.Api.ApiTestExtensions;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>
/// The piece routes through the real Program: piece-error reports (§2.9) can only collect a task whose CDN copy is really bad,
/// and enum fields take only their defined values.
/// </summary>
public sealed class PieceEndpointsTests : IClassFixture<SupernodeApiFactory>, IAsyncLifetime
{
    private readonly SupernodeApiFactory _factory;
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private OriginServer _origin = null!;

    public PieceEndpointsTests(SupernodeApiFactory factory)
    {
        _factory = factory;
        _client = factory.CreateClient();
    }

    public async Task InitializeAsync()
    {
        _origin = await OriginServer.StartAsync();
        _origin.AddFile("/small.bin", 1000, seed: 5);
    }

    public async Task DisposeAsync()
    {
        await _origin.DisposeAsync();
        _timeout.Dispose();
    }

    [Fact]
    public async Task PieceError_PieceBeyondTheTask_IgnoredOnBothRoutesAndTaskKept()
    {
        var taskId = await RegisterAndCacheAsync();
        var handled = new TaskCompletionSource<(string TaskId, CdnPieceCheck Check)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _factory.Services.GetRequiredService<PieceErrorService>().Handled += (id, check) => handled.TrySetResult((id.Value, check));
        var supernode = $"cdnnode:x~{taskId}";

        // Piece 100 of a one-piece task: the legacy answer stays 200 with an empty body, v1 204; neither is acted on.
        using (var legacy = await _client.GetAsync(
            $"/peer/piece/error?taskId={taskId}&range=419430400-423624703&srcCid=a&dstCid={supernode}&errorType=FILE_MD5_NOT_MATCH", _timeout.Token))
        {
            legacy.StatusCode.Should().Be(HttpStatusCode.OK);
            (await legacy.Content.ReadAsStringAsync(_timeout.Token)).Should().BeEmpty();
        }

        using (var v1 = await _client.PostAsync($"/api/v1/tasks/{taskId}/pieces/419430400-423624703/error",
            JsonBody($$"""{"srcCid":"a","dstPid":"{{supernode}}","errorType":"FILE_NOT_EXIST"}"""), _timeout.Token))
        {
            v1.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        // A report of the real piece is still taken (the task was not claimed by the ignored ones) and finds it good.
        using (var real = await _client.GetAsync(
            $"/peer/piece/error?taskId={taskId}&range=0-4194303&srcCid=a&dstCid={supernode}&errorType=FILE_MD5_NOT_MATCH", _timeout.Token))
        {
            real.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        (await handled.Task.WaitAsync(_timeout.Token)).Should().Be((taskId, CdnPieceCheck.Good));
        (await _client.GetAsync($"/api/v1/tasks/{taskId}", _timeout.Token)).StatusCode.Should().Be(HttpStatusCode.OK);
        File.Exists(Path.Combine(_factory.HomeDir, "repo", "download", taskId[..3], taskId)).Should().BeTrue();
    }

    [Theory]
    [InlineData("PUT", "/pieces/0-4194303", """{"clientID":"127.0.0.1-9-9.000","dstPID":"x","pieceStatus":5}""")]
    [InlineData("PUT", "/pieces/0-4194303", """{"clientID":"127.0.0.1-9-9.000","dstPID":"x","pieceStatus":-1}""")]
    [InlineData("POST", "/pieces/0-4194303/error", """{"srcCid":"a","dstPid":"b","errorType":5}""")]
    [InlineData("GET", "/pieces/0-4194303/error", """{"srcCid":"a","dstPid":"b","errorType":2}""")]
    public async Task PieceRoutes_NumberOutsideTheEnum_400(string method, string path, string json)
    {
        var taskId = await RegisterAndCacheAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/api/v1/tasks/{taskId}{path}") { Content = JsonBody(json) };

        var (status, body, text) = await _client.SendAsync(request, _timeout.Token).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.BadRequest, text);
        body.GetProperty("code").GetInt32().Should().Be(400);
    }

    private async Task<string> RegisterAndCacheAsync()
    {
        var url = _origin.Url("/small.bin").ToString();
        var (status, body, text) = await _client.PostAsync("/peer/registry", JsonBody(
            $$"""{"rawUrl":"{{url}}","taskUrl":"{{url}}","cid":"127.0.0.1-9-9.000","ip":"127.0.0.1","hostName":"h9","port":15009,"path":"/peer/file/small.bin-9-9.000","version":"1.0.6"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.OK, text);
        var taskId = body.GetProperty("data").GetProperty("taskId").GetString()!;
        while (true)
        {
            var (_, info, _) = await _client.GetAsync($"/api/v1/tasks/{taskId}", _timeout.Token).ReadJsonAsync();
            if (info.GetProperty("cdnStatus").GetString() == "SUCCESS")
            {
                return taskId;
            }

            await Task.Delay(20, _timeout.Token);
        }
    }
}
