using System.Net;
using Dragonfly.TestCommon;
using static Dragonfly.Supernode.Tests.Api.ApiTestExtensions;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>The v1 surface: 201 create, 204 delete, 404 unknown or malformed id, 400 invalid input (§0).</summary>
public sealed class V1EndpointsTests : IClassFixture<SupernodeApiFactory>, IAsyncLifetime
{
    private readonly HttpClient _client;
    private OriginServer _origin = null!;

    public V1EndpointsTests(SupernodeApiFactory factory) => _client = factory.CreateClient();

    public async Task InitializeAsync()
    {
        _origin = await OriginServer.StartAsync();
        _origin.AddFile("/v1.bin", 5000, seed: 5);
    }

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Theory]
    [InlineData("/api/v1/peers")]
    [InlineData("/peers")]
    [InlineData("/v1/api/v1/peers")]
    public async Task Peers_CreateGetDelete_RestStatuses(string prefix)
    {
        var (status, body, text) = await _client.PostAsync(prefix, JsonBody("""{"IP":"127.0.0.1","hostName":"peer-a","port":15100,"version":"1.0.6"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);
        var id = body.GetProperty("ID").GetString()!;
        id.Should().StartWith("peer-a-127.0.0.1-");

        var (getStatus, peer, _) = await _client.GetAsync($"{prefix}/{id}").ReadJsonAsync();
        getStatus.Should().Be(HttpStatusCode.OK);
        peer.GetProperty("port").GetInt32().Should().Be(15100);
        peer.GetProperty("created").GetString().Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");

        (await _client.DeleteAsync($"{prefix}/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var (goneStatus, gone, _) = await _client.GetAsync($"{prefix}/{id}").ReadJsonAsync();
        goneStatus.Should().Be(HttpStatusCode.NotFound);
        gone.GetProperty("code").GetInt32().Should().Be(404);
        gone.GetProperty("message").GetString().Should().Contain(id);
        (await _client.DeleteAsync($"{prefix}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"IP":"999.1.1.1","hostName":"h","port":15000}""")]
    [InlineData("""{"IP":"127.0.0.1","hostName":"","port":15000}""")]
    [InlineData("""{"IP":"127.0.0.1","hostName":"h","port":14999}""")]
    [InlineData("""{"IP":"127.0.0.1","hostName":"h","port":65001}""")]
    [InlineData("""{"IP":"127.0.0.1","hostName":"h","port":"x"}""")]
    [InlineData("""{"IP":"127.0.0.1",""")]
    [InlineData("")]
    public async Task CreatePeer_InvalidBody_400(string json)
    {
        var (status, body, _) = await _client.PostAsync("/api/v1/peers", JsonBody(json)).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.BadRequest);
        body.GetProperty("code").GetInt32().Should().Be(400);
    }

    [Fact]
    public async Task ListPeers_BadPaging_400AndGoodPaging_200()
    {
        (await _client.GetAsync("/api/v1/peers?pageNum=-1")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await _client.GetAsync("/api/v1/peers?sortDirect=sideways")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var (status, body, _) = await _client.GetAsync("/api/v1/peers?pageNum=0&pageSize=1&sortDirect=desc").ReadJsonAsync();
        status.Should().Be(HttpStatusCode.OK);
        body.GetArrayLength().Should().Be(1);
    }

    [Theory]
    [InlineData("/api/v1/tasks/nonexistent")]
    [InlineData("/api/v1/tasks/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/tasks/0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("/api/v1/tasks/nonexistent/swarm")]
    [InlineData("/api/v1/tasks/..%2F..%2Fetc%2Fpasswd/swarm")]
    [InlineData("/tasks/0000000000000000000000000000000000000000000000000000000000000000/swarm")]
    public async Task GetTask_UnknownOrMalformed_404ErrorBody(string path)
    {
        var (status, body, _) = await _client.GetAsync(path).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.NotFound);
        body.GetProperty("code").GetInt32().Should().Be(404);
    }

    [Fact]
    public async Task Tasks_CreatePullDelete_V1Flow()
    {
        var (_, peer, _) = await _client.PostAsync("/api/v1/peers", JsonBody("""{"IP":"127.0.0.1","hostName":"v1-client","port":15200}""")).ReadJsonAsync();
        var peerId = peer.GetProperty("ID").GetString();
        var url = _origin.Url("/v1.bin").ToString();

        var (status, created, text) = await _client.PostAsync("/api/v1/tasks", JsonBody(
            $$"""{"cID":"127.0.0.1-77-7.000","rawURL":"{{url}}","path":"/peer/file/v1.bin-77","peerID":"{{peerId}}","supernodeIP":"127.0.0.1"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);
        var taskId = created.GetProperty("ID").GetString()!;
        created.GetProperty("fileLength").GetInt64().Should().Be(5000);
        created.GetProperty("cdnSource").GetString().Should().Be("supernode");

        var (infoStatus, info, _) = await _client.GetAsync($"/api/v1/tasks/{taskId}").ReadJsonAsync();
        infoStatus.Should().Be(HttpStatusCode.OK);
        info.GetProperty("httpFileLength").GetInt64().Should().Be(5000);
        info.GetProperty("rawURL").GetString().Should().Be(url);

        // The listing (what the swarm page offers to pick from) has it, the most recently used first.
        var (listStatus, list, listText) = await _client.GetAsync("/api/v1/tasks").ReadJsonAsync();
        listStatus.Should().Be(HttpStatusCode.OK, listText);
        list.EnumerateArray().Select(t => t.GetProperty("ID").GetString()).Should().Contain(taskId);
        var (_, firstPage, _) = await _client.GetAsync("/api/v1/tasks?pageNum=0&pageSize=1").ReadJsonAsync();
        firstPage.EnumerateArray().Should().ContainSingle().Which.GetProperty("ID").GetString().Should().Be(taskId, "it was used last");
        var (_, beyond, _) = await _client.GetAsync("/api/v1/tasks?pageNum=1000000&pageSize=1000000").ReadJsonAsync();
        beyond.GetArrayLength().Should().Be(0);
        (await _client.GetAsync("/api/v1/tasks?pageSize=-1")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await _client.GetAsync("/api/v1/tasks?pageNum=x")).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        // Pull until continue or finished: a v1 pull carries the legacy outcomes as "state".
        string? state = null;
        for (var i = 0; i < 200 && state is not "continue"; i++)
        {
            // waitMs: a "wait" is held until the CDN writes a piece (or 200 ms pass) and then says how long it was held.
            var (pullStatus, pull, pullText) = await _client.GetAsync($"/api/v1/tasks/{taskId}/pieces?clientID=127.0.0.1-77-7.000&dfgetTaskStatus=STARTED&waitMs=200").ReadJsonAsync();
            pullStatus.Should().Be(HttpStatusCode.OK, pullText);
            state = pull.GetProperty("state").GetString();
            state.Should().BeOneOf("continue", "wait");
            if (state == "wait")
            {
                pull.GetProperty("waitedMs").GetInt64().Should().BeGreaterThanOrEqualTo(0, pullText);
            }
            if (state == "continue")
            {
                var piece = pull.GetProperty("pieces")[0];
                piece.GetProperty("pieceRange").GetString().Should().Be("0-4194303");
                piece.GetProperty("pID").GetString().Should().StartWith("cdnnode:127.0.0.1~");
            }
            else
            {
                await Task.Delay(25);
            }
        }

        state.Should().Be("continue");
        (await _client.PutAsync($"/api/v1/tasks/{taskId}/pieces/0-4194303", JsonBody(
            $$"""{"clientID":"127.0.0.1-77-7.000","dstPID":"cdnnode:127.0.0.1~{{taskId}}","pieceStatus":"SUCCESS"}"""))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var (doneStatus, done, doneText) = await _client.GetAsync(
            $"/api/v1/tasks/{taskId}/pieces?clientID=127.0.0.1-77-7.000&dfgetTaskStatus=RUNNING&pieceResult=SUCCESS&pieceRange=0-4194303&dstPID=cdnnode:127.0.0.1~{taskId}").ReadJsonAsync();
        // The client has every piece; "finished" carries the file md5, which the CDN knows once it has read the whole
        // source, so under load the answer can still be "wait" for a moment. A client asks again, as this one does.
        for (var i = 0; i < 50 && doneStatus == HttpStatusCode.OK && done.GetProperty("state").GetString() == "wait"; i++)
        {
            (doneStatus, done, doneText) = await _client.GetAsync(
                $"/api/v1/tasks/{taskId}/pieces?clientID=127.0.0.1-77-7.000&dfgetTaskStatus=RUNNING&waitMs=200").ReadJsonAsync();
        }

        doneStatus.Should().Be(HttpStatusCode.OK, doneText);
        done.GetProperty("state").GetString().Should().Be("finished", doneText);
        done.GetProperty("md5").GetString().Should().Be(_origin.File("/v1.bin").Md5());
        done.GetProperty("fileLength").GetInt64().Should().Be(5005);

        // The swarm view: the CDN and the client each have the one piece, which the supernode served.
        var (swarmStatus, swarm, swarmText) = await _client.GetAsync($"/api/v1/tasks/{taskId}/swarm").ReadJsonAsync();
        swarmStatus.Should().Be(HttpStatusCode.OK, swarmText);
        swarm.GetProperty("taskID").GetString().Should().Be(taskId);
        swarm.GetProperty("cdnStatus").GetString().Should().Be("SUCCESS");
        swarm.GetProperty("pieceTotal").GetInt32().Should().Be(1);
        swarm.GetProperty("width").GetInt32().Should().Be(1);
        swarm.GetProperty("cdnPieces").GetString().Should().Be("gA==", "piece 0 is the high bit of the first byte");
        swarm.GetProperty("piecesFromSupernode").GetInt64().Should().Be(1, swarmText);
        swarm.GetProperty("bytesFromSupernode").GetInt64().Should().Be(5005);
        swarm.GetProperty("bytesFromPeers").GetInt64().Should().Be(0);
        var client = swarm.GetProperty("peers").EnumerateArray().Should().ContainSingle().Subject;
        client.GetProperty("cID").GetString().Should().Be("127.0.0.1-77-7.000");
        client.GetProperty("peerID").GetString().Should().Be(peerId);
        client.GetProperty("pieces").GetString().Should().Be("gA==");
        client.GetProperty("running").GetArrayLength().Should().Be(0);

        (await _client.PutAsync($"/api/v1/tasks/{taskId}", JsonBody($$"""{"peerID":"{{peerId}}"}"""))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.PutAsync($"/api/v1/tasks/{taskId}", JsonBody("""{"peerID":"ghost-127.0.0.1-1"}"""))).StatusCode.Should().Be(HttpStatusCode.NotFound);

        // Piece error reports: POST with a body, GET with query parameters (as original clients send it); bad input 400.
        (await _client.PostAsync($"/api/v1/tasks/{taskId}/pieces/0-4194303/error", JsonBody(
            $$"""{"srcCid":"127.0.0.1-77-7.000","dstPid":"cdnnode:127.0.0.1~{{taskId}}","errorType":"FILE_MD5_NOT_MATCH","realMd5":"x","expectedMd5":"y"}"""))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetAsync($"/api/v1/tasks/{taskId}/pieces/0-4194303/error?srcCid=a&dstPid=b&errorType=FILE_NOT_EXIST")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetAsync($"/api/v1/tasks/{taskId}/pieces/0-4194303/error?errorType=BROKEN")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await _client.PostAsync($"/api/v1/tasks/{taskId}/pieces/4-2/error", JsonBody("""{"errorType":"FILE_NOT_EXIST"}"""))).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await _client.PutAsync($"/api/v1/tasks/{taskId}/pieces/0-4194303", JsonBody("""{"clientID":"127.0.0.1-77-7.000"}"""))).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        // Pull parameter faults are 400 with the legacy code 501 in the body.
        var (badStatus, bad, _) = await _client.GetAsync($"/api/v1/tasks/{taskId}/pieces?dfgetTaskStatus=STARTED").ReadJsonAsync();
        badStatus.Should().Be(HttpStatusCode.BadRequest);
        bad.GetProperty("code").GetInt32().Should().Be(501);
        (await _client.GetAsync($"/api/v1/tasks/{taskId}/pieces?clientID=c&dfgetTaskStatus=DANCING")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await _client.GetAsync($"/api/v1/tasks/{taskId}/pieces?clientID=127.0.0.1-77-7.000&dfgetTaskStatus=RUNNING&waitMs=10001")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await _client.GetAsync($"/api/v1/tasks/{taskId}/pieces?clientID=127.0.0.1-77-7.000&dfgetTaskStatus=RUNNING&waitMs=-5")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var (unknownClient, unknown, _) = await _client.GetAsync($"/api/v1/tasks/{taskId}/pieces?clientID=127.0.0.1-404-0.000&dfgetTaskStatus=STARTED").ReadJsonAsync();
        unknownClient.Should().Be(HttpStatusCode.NotFound);
        unknown.GetProperty("code").GetInt32().Should().Be(502);
        (await _client.DeleteAsync($"/api/v1/tasks/{taskId}?full=maybe")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await _client.DeleteAsync($"/api/v1/tasks/{taskId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetAsync($"/api/v1/tasks/{taskId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _client.DeleteAsync($"/api/v1/tasks/{taskId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SwarmPage_IsHtmlThatOnlyTalksToThisSupernode()
    {
        using var response = await _client.GetAsync("/swarm");
        var html = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        response.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("connect-src 'self'").And.Contain("default-src 'none'");
        html.Should().Contain("\"api/v1/tasks/\" + id + \"/swarm\"", "the page draws the swarm endpoint");
        html.Should().Contain("\"api/v1/tasks?pageSize=200\"", "the page offers the tasks to pick from");
        html.Should().NotContain("innerHTML", "peer data is written as text, never as markup");
    }

    [Fact]
    public async Task Tasks_GetAndList_HideTheCredentialsInATasksHeaders()
    {
        var (_, peer, _) = await _client.PostAsync("/api/v1/peers", JsonBody("""{"IP":"127.0.0.1","hostName":"secret-client","port":15201}""")).ReadJsonAsync();
        var url = _origin.Url("/v1.bin") + "?secret-test";
        var (status, created, text) = await _client.PostAsync("/api/v1/tasks", JsonBody(
            $$$"""{"cID":"127.0.0.1-78-8.000","rawURL":"{{{url}}}","path":"/peer/file/v1.bin-78","peerID":"{{{peer.GetProperty("ID").GetString()}}}","headers":{"Authorization":"Bearer s3cret-token","Cookie":"session=s3cret-cookie","Accept":"application/octet-stream"}}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);
        var taskId = created.GetProperty("ID").GetString()!;

        var one = await _client.GetStringAsync($"/api/v1/tasks/{taskId}");
        var all = await _client.GetStringAsync("/api/v1/tasks");

        foreach (var body in new[] { one, all })
        {
            body.Should().NotContain("s3cret").And.Contain("\"Authorization\":\"<redacted>\"").And.Contain("\"Cookie\":\"<redacted>\"");
            body.Should().Contain("\"Accept\":\"application/octet-stream\"", "ordinary headers stay visible");
        }

        (await _client.DeleteAsync($"/api/v1/tasks/{taskId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Theory]
    [InlineData("""{"cID":"c","rawURL":"ftp://x/y","path":"/p","peerID":"p"}""")]
    [InlineData("""{"cID":"c","rawURL":"http://127.0.0.1:1/y","path":"/p"}""")]
    [InlineData("""{"rawURL":"http://127.0.0.1:1/y","path":"/p","peerID":"p"}""")]
    [InlineData("""{"cID":1}""")]
    public async Task CreateTask_InvalidInput_400(string json)
    {
        var (status, body, text) = await _client.PostAsync("/api/v1/tasks", JsonBody(json)).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.BadRequest, text);
        body.GetProperty("code").GetInt32().Should().Be(400);
    }

    [Fact]
    public async Task CreatePeer_OversizeBody_413ErrorBody()
    {
        var (status, body, _) = await _client.PostAsync("/api/v1/peers", JsonBody("{\"hostName\":\"" + new string('h', 1_100_000) + "\"}")).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        body.GetProperty("code").GetInt32().Should().Be(413);
    }

    [Fact]
    public async Task CreateTask_UnknownPeer_404()
    {
        var url = _origin.Url("/v1.bin").ToString();
        var (status, _, text) = await _client.PostAsync("/api/v1/tasks", JsonBody(
            $$"""{"cID":"127.0.0.1-78-7.000","rawURL":"{{url}}","path":"/peer/file/x","peerID":"nobody-127.0.0.1-1"}""")).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.NotFound, text);
    }

    [Fact]
    public async Task Pull_BadParameters_400AndUnknownTask_404()
    {
        var unknown = new string('f', 64);
        var (pullStatus, pull, _) = await _client.GetAsync($"/api/v1/tasks/{unknown}/pieces?clientID=c&dfgetTaskStatus=STARTED").ReadJsonAsync();
        pullStatus.Should().Be(HttpStatusCode.NotFound);
        pull.GetProperty("code").GetInt32().Should().Be(502);
        (await _client.GetAsync($"/api/v1/tasks/{unknown}/pieces/0-1/error?errorType=FILE_NOT_EXIST")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _client.PostAsync($"/api/v1/tasks/{unknown}/pieces/0-1/error", JsonBody("""{"errorType":"FILE_NOT_EXIST"}"""))).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
