using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dragonfly.FunctionalTests.Support;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>
/// The published supernode with an admin token (<c>SUPERNODE_ADMIN_TOKEN_FILE</c>): what an unmodified original dfget sends
/// and our dfget both work without credentials, the management routes do not; a bad token file stops the start.
/// </summary>
public class SupernodeAdminTokenTests
{
    private const string Token = "functional-admin-token-0123456789abcdef";

    [Fact]
    public async Task TokenSet_OriginalDfgetLegacyFlowAndOurDfgetNeedNoCredentials_ManagementRoutesDo()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        await using var swarm = await Swarm.StartAsync(0, ct);
        var tokenFile = swarm.Dir.Combine("admin.token");
        await File.WriteAllTextAsync(tokenFile, Token + "\n", ct);
        var info = new SupernodeProcess(swarm.Dir.Combine("supernode"), ProcessHost.FreeTcpPort(), ProcessHost.FreeTcpPort());
        await using var supernode = Swarm.StartPublishedSupernode(info, environment: new Dictionary<string, string> { ["SUPERNODE_ADMIN_TOKEN_FILE"] = tokenFile });
        await Swarm.WaitForPingAsync(info, ct);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{info.Port}/"), Timeout = TimeSpan.FromSeconds(20) };
        var file = swarm.Origin.AddFile("/legacy.bin", 300_000, seed: 41);
        var url = swarm.Origin.Url("/legacy.bin").ToString();

        // The original dfget's registration: its lower-camel field names, JSON, no Authorization header.
        const string cid = "127.0.0.1-4242-1795238008.142";
        using var registered = await EnvelopeAsync(http.PostAsync("peer/registry", new StringContent(
            $$"""{"superNodeIp":"127.0.0.1","rawUrl":"{{url}}","taskUrl":"{{url}}","cid":"{{cid}}","ip":"127.0.0.1","hostName":"legacy-host","port":15042,"path":"/peer/file/legacy.bin-4242-1795238008.142","version":"1.0.6","callSystem":"legacy"}""",
            Encoding.UTF8, "application/json"), ct), ct);
        Code(registered).Should().Be(200, registered.RootElement.ToString());
        var taskId = registered.RootElement.GetProperty("data").GetProperty("taskId").GetString()!;

        // Its pull loop: START until the CDN has the piece, fetch it from the download port, report it, finish.
        var piece = await PullFirstPieceAsync(http, cid, taskId, ct);
        using var pieceRequest = new HttpRequestMessage(HttpMethod.Get, $"http://{piece.GetProperty("peerIp").GetString()}:{piece.GetProperty("peerPort").GetInt32()}{piece.GetProperty("path").GetString()}");
        pieceRequest.Headers.Range = new RangeHeaderValue(0, 4194303);
        using var pieceResponse = await http.SendAsync(pieceRequest, ct);
        pieceResponse.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        (await pieceResponse.Content.ReadAsByteArrayAsync(ct)).Length.Should().Be(300_000 + 5);
        var range = piece.GetProperty("range").GetString();
        var owner = piece.GetProperty("cid").GetString();
        using var suc = await EnvelopeAsync(http.GetAsync($"peer/piece/suc?taskId={taskId}&cid={cid}&dstCid={owner}&pieceRange={range}", ct), ct);
        Code(suc).Should().Be(611);
        using var finished = await EnvelopeAsync(http.GetAsync($"peer/task?srcCid={cid}&dstCid={owner}&range={range}&result=501&status=701&taskId={taskId}", ct), ct);
        Code(finished).Should().Be(600, finished.RootElement.ToString());
        finished.RootElement.GetProperty("data").GetProperty("md5").GetString().Should().Be(file.Md5());
        using var metrics = await http.PostAsync("task/metrics", new StringContent(
            $$"""{"IP":"127.0.0.1","port":15042,"taskId":"{{taskId}}","cID":"{{cid}}","callSystem":"legacy","duration":0.5,"success":true,"fileLength":300000}""",
            Encoding.UTF8, "application/json"), ct);
        metrics.StatusCode.Should().Be(HttpStatusCode.OK);
        using var down = await EnvelopeAsync(http.GetAsync($"peer/service/down?taskId={taskId}&cid={cid}", ct), ct);
        Code(down).Should().Be(612);

        // Our dfget (v1 routes) downloads through the same supernode without a token.
        var run = await swarm.DfgetAsync("ours", swarm.Origin.Url("/legacy.bin"), ["-n", $"127.0.0.1:{info.Port}", "--notbs"], ct, withNodes: false);
        run.Succeeded.Should().BeTrue(run.ToString());
        (await P2PDistributionTests.Md5Hex(run.OutputPath)).Should().Be(file.Md5());

        // The management routes: 401 without the token, 403 with another, done with it.
        using var bare = await http.DeleteAsync($"api/v1/tasks/{taskId}?full=true", ct);
        bare.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        bare.Headers.WwwAuthenticate.ToString().Should().Be("Bearer realm=\"dragonfly-supernode\"");
        (await Json(bare, ct)).RootElement.GetProperty("code").GetInt32().Should().Be(401);
        using var preheat = await http.PostAsync("api/v1/preheats", new StringContent($$"""{"type":"file","url":"{{url}}"}""", Encoding.UTF8, "application/json"), ct);
        preheat.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await SendAsync(http, HttpMethod.Delete, $"api/v1/tasks/{taskId}?full=true", "Bearer wrong-token-0123456789abcdef", ct)).Should().Be(HttpStatusCode.Forbidden);
        (await http.GetAsync($"api/v1/tasks/{taskId}", ct)).StatusCode.Should().Be(HttpStatusCode.OK, "the views stay open, and nothing was deleted");
        (await SendAsync(http, HttpMethod.Delete, $"api/v1/tasks/{taskId}?full=true", "Bearer " + Token, ct)).Should().Be(HttpStatusCode.NoContent);
        (await http.GetAsync($"api/v1/tasks/{taskId}", ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);

        supernode.Output.Should().Contain($"need the admin token from file {tokenFile}").And.Contain("Refused DELETE /api/v1/tasks/");
        supernode.Output.Should().NotContain(Token);
    }

    /// <summary>
    /// The published supernode, its lockout set in supernode.yml (2 wrong tokens; a day long, so nothing here depends on
    /// how fast the requests go): the real client address (127.0.0.1) is locked out of the management routes, the right
    /// token included, while the data plane and /metrics answer it; the lockout is logged and counted.
    /// </summary>
    [Fact]
    public async Task WrongTokensFromOneAddress_ReachTheLimit_429WithRetryAfterEvenWithTheToken_DataPlaneStillOpen()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        using var dir = new TempDirectory("dragonfly-admin-lockout-");
        var tokenFile = dir.Combine("admin.token");
        await File.WriteAllTextAsync(tokenFile, Token + "\n", ct);
        var config = dir.Combine("supernode.yml");
        await File.WriteAllTextAsync(config, "base:\n  adminMaxFailures: 2\n  adminFailureWindow: 24h\n  adminLockout: 24h\n", ct);
        var info = new SupernodeProcess(dir.Combine("home"), ProcessHost.FreeTcpPort(), ProcessHost.FreeTcpPort());
        await using var supernode = Swarm.StartPublishedSupernode(
            info, environment: new Dictionary<string, string> { ["SUPERNODE_ADMIN_TOKEN_FILE"] = tokenFile, ["SUPERNODE_CONFIG"] = config });
        await Swarm.WaitForPingAsync(info, ct);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{info.Port}/"), Timeout = TimeSpan.FromSeconds(20) };

        (await SendAsync(http, HttpMethod.Delete, "api/v1/preheats/unknown", "Bearer wrong-token-0123456789abcdef", ct)).Should().Be(HttpStatusCode.Forbidden);
        (await SendAsync(http, HttpMethod.Delete, "api/v1/preheats/unknown", "Bearer wrong-token-0123456789abcdef", ct)).Should().Be(HttpStatusCode.Forbidden);

        using var locked = new HttpRequestMessage(HttpMethod.Delete, "api/v1/preheats/unknown");
        locked.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var refused = await http.SendAsync(locked, ct);
        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter!.Delta!.Value.Should().BeGreaterThan(TimeSpan.FromHours(23));
        (await Json(refused, ct)).RootElement.GetProperty("code").GetInt32().Should().Be(429);

        (await http.GetAsync("_ping", ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.PostAsync("api/v1/peers", new StringContent("""{"IP":"127.0.0.1","hostName":"locked-out","port":15043}""", Encoding.UTF8, "application/json"), ct))
            .StatusCode.Should().Be(HttpStatusCode.Created, "the data plane is never throttled");
        var metrics = await http.GetStringAsync("metrics", ct);
        metrics.Should().Contain("dragonfly_supernode_admin_lockouts_total 1\n")
            .And.Contain("dragonfly_supernode_admin_refusals_total{code=\"403\"} 2\n")
            .And.Contain("dragonfly_supernode_admin_refusals_total{code=\"429\"} 1\n");
        await supernode.WaitForLineAsync(l => l.Contains("Locked 127.0.0.1 out of the management routes for 24h", StringComparison.Ordinal), ct);
        supernode.Output.Should().Contain("Refused DELETE /api/v1/preheats/unknown from 127.0.0.1 with HTTP 403").And.NotContain(Token);
    }

    [Fact]
    public async Task TokenFileMissing_SupernodeRefusesToStart_Exit10()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var dir = new TempDirectory("dragonfly-admin-token-");
        var missing = dir.Combine("no-such-token");

        var (exit, output) = await ProcessHost.RunAsync(
            DragonflyBinaries.PathOf("supernode"),
            ["--home-dir", dir.Combine("home"), "--advertise-ip", "127.0.0.1", "--port", "0", "--download-port", "0", "--admin-token-file", missing],
            cts.Token);

        exit.Should().Be(10, output);
        output.Trim().Should().Be($"supernode: admin token file {missing} does not exist");
    }

    private static async Task<JsonElement> PullFirstPieceAsync(HttpClient http, string cid, string taskId, CancellationToken ct)
    {
        while (true)
        {
            using var pulled = await EnvelopeAsync(http.GetAsync($"peer/task?srcCid={cid}&dstCid=&range=&result=502&status=700&taskId={taskId}", ct), ct);
            if (Code(pulled) == 601 && pulled.RootElement.GetProperty("data").GetArrayLength() > 0)
            {
                return pulled.RootElement.GetProperty("data")[0].Clone();
            }

            Code(pulled).Should().Be(602, pulled.RootElement.ToString());
            await Task.Delay(100, ct);
        }
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient http, HttpMethod method, string path, string authorization, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await http.SendAsync(request, ct);
        return response.StatusCode;
    }

    private static async Task<JsonDocument> EnvelopeAsync(Task<HttpResponseMessage> call, CancellationToken ct)
    {
        using var response = await call;
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await Json(response, ct);
    }

    private static async Task<JsonDocument> Json(HttpResponseMessage response, CancellationToken ct) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));

    private static int Code(JsonDocument envelope) => envelope.RootElement.GetProperty("code").GetInt32();
}
