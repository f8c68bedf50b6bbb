using System.Net;
using System.Text.Json;
using Dragonfly.TestCommon;
using static Dragonfly.Supernode.Tests.Api.ApiTestExtensions;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>The legacy surface (§1.4) through the real Program: envelopes, statuses, case-insensitive and form bodies.</summary>
public sealed class LegacyEndpointsTests : IClassFixture<SupernodeApiFactory>, IAsyncLifetime
{
    private readonly SupernodeApiFactory _factory;
    private readonly HttpClient _client;
    private OriginServer _origin = null!;

    public LegacyEndpointsTests(SupernodeApiFactory factory)
    {
        _factory = factory;
        _client = factory.CreateClient();
    }

    public async Task InitializeAsync()
    {
        _origin = await OriginServer.StartAsync();
        _origin.AddFile("/small.bin", 1000, seed: 3);
    }

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Fact]
    public async Task Register_DfgetFieldNames_200EnvelopeWithTaskData()
    {
        var url = _origin.Url("/small.bin").ToString();
        var (status, body, text) = await _client.PostAsync("/peer/registry", JsonBody(
            $$"""{"superNodeIp":"127.0.0.1","rawUrl":"{{url}}","taskUrl":"{{url}}","cid":"127.0.0.1-1-1.000","ip":"127.0.0.1","hostName":"h1","port":15001,"path":"/peer/file/small.bin-1-1.000","version":"1.0.6"}""")).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.OK, text);
        body.GetProperty("code").GetInt32().Should().Be(200);
        body.GetProperty("msg").GetString().Should().Be("success");
        var data = body.GetProperty("data");
        data.GetProperty("taskId").GetString().Should().MatchRegex("^[0-9a-f]{64}$");
        data.GetProperty("fileLength").GetInt64().Should().Be(1000);
        data.GetProperty("pieceSize").GetInt32().Should().Be(4194304);
        data.GetProperty("cdnSource").GetString().Should().Be("supernode");
        data.GetProperty("asSeed").GetBoolean().Should().BeFalse();
        data.GetProperty("seedTaskID").GetString().Should().BeEmpty();
    }

    [Fact]
    public async Task Register_FormBodyWithOddCase_200()
    {
        var url = _origin.Url("/small.bin").ToString();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["RAWURL"] = url, ["CID"] = "127.0.0.1-2-2.000", ["Ip"] = "127.0.0.1", ["hostname"] = "h2", ["port"] = "15002",
            ["path"] = "/peer/file/small.bin-2-2.000",
        });

        var (status, body, text) = await _client.PostAsync("/peer/registry", form).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.OK, text);
        body.GetProperty("code").GetInt32().Should().Be(200);
    }

    [Fact]
    public async Task Register_NotAUrl_500WithOriginalMessage()
    {
        var (status, _, text) = await _client.PostAsync("/peer/registry", JsonBody(
            """{"rawUrl":"notaurl","cid":"127.0.0.1-3-3.000","ip":"127.0.0.1","hostName":"h","port":15003,"path":"/peer/file/x"}""")).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.InternalServerError);
        text.Should().Be("""{"code":500,"message":"raw url: notaurl: {\"Code\":2,\"Msg\":\"invalid value\"}"}""");
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"port":"fifteen"}""")]
    [InlineData("")]
    public async Task Register_MalformedBody_500Envelope(string json)
    {
        var (status, body, _) = await _client.PostAsync("/peer/registry", JsonBody(json)).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.InternalServerError);
        body.GetProperty("code").GetInt32().Should().Be(500);
        body.GetProperty("message").GetString().Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task Register_OversizeBody_413()
    {
        var big = "{\"rawUrl\":\"" + new string('a', 2 * 1024 * 1024) + "\"}";

        var (status, body, _) = await _client.PostAsync("/peer/registry", JsonBody(big)).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        body.GetProperty("message").GetString().Should().Contain("too large");
    }

    [Fact]
    public async Task Register_FailedRegistration_LeavesNoTask()
    {
        var url = _origin.Url("/absent.bin").ToString();
        var (status, _, _) = await _client.PostAsync("/peer/registry", JsonBody(
            $$"""{"rawUrl":"{{url}}","cid":"127.0.0.1-4-4.000","ip":"127.0.0.1","hostName":"h","port":15004,"path":"/peer/file/x"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.InternalServerError);

        var taskId = Dragonfly.Common.Identity.TaskIdentity.ComputeTaskId(url, null, null).Value;
        (await _client.GetAsync($"/api/v1/tasks/{taskId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PullTask_UnknownTask_502Envelope()
    {
        var taskId = new string('b', 64);
        var (status, body, _) = await _client.GetAsync($"/peer/task?srcCid=127.0.0.1-9-9.000&dstCid=&range=&result=502&status=700&taskId={taskId}").ReadJsonAsync();

        status.Should().Be(HttpStatusCode.OK);
        body.GetProperty("code").GetInt32().Should().Be(502);
    }

    [Fact]
    public async Task PullTask_BadStatus_501Envelope()
    {
        var (status, body, _) = await _client.GetAsync($"/peer/task?srcCid=x&status=999&result=502&taskId={new string('c', 64)}").ReadJsonAsync();

        status.Should().Be(HttpStatusCode.OK);
        body.GetProperty("code").GetInt32().Should().BeOneOf(501, 502);
    }

    [Fact]
    public async Task PieceSuc_UnknownPeer_500()
    {
        var (status, body, _) = await _client.GetAsync($"/peer/piece/suc?taskId={new string('d', 64)}&cid=a&dstCid=cdnnode:127.0.0.1~{new string('d', 64)}&pieceRange=0-4194303").ReadJsonAsync();

        status.Should().Be(HttpStatusCode.InternalServerError);
        body.GetProperty("code").GetInt32().Should().Be(500);
    }

    [Fact]
    public async Task ServiceDown_UnknownClient_612()
    {
        var (status, _, text) = await _client.GetAsync($"/peer/service/down?taskId={new string('e', 64)}&cid=127.0.0.1-5-5.000").ReadJsonAsync();

        status.Should().Be(HttpStatusCode.OK);
        text.Should().Be("""{"code":612}""");
    }

    [Fact]
    public async Task PieceError_Anything_200EmptyBody()
    {
        using var response = await _client.GetAsync("/peer/piece/error?taskId=zzz&range=0-1&srcCid=a&dstCid=b&errorType=FILE_NOT_EXIST");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task TaskMetrics_Report_NullAndCounted()
    {
        using var response = await _client.PostAsync("/task/metrics", JsonBody(
            """{"IP":"127.0.0.1","port":15001,"taskId":"t","cID":"c","callSystem":"ci","duration":1.5,"success":false,"backsourceReason":"3","fileLength":10}"""));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("null");
        var metrics = await _client.GetStringAsync("/metrics");
        metrics.Should().Contain("dragonfly_dfget_download_failed_total{callsystem=\"ci\",peer=\"127.0.0.1\",reason=\"3\"} 1");
    }

    [Fact]
    public async Task TaskMetrics_ManyHostileReports_AddNoSeriesBeyondTheBoundedLabels()
    {
        for (var i = 0; i < 300; i++)
        {
            using var response = await _client.PostAsync("/task/metrics", JsonBody(
                $$"""{"IP":"10.{{i}}.0.1x","taskId":"h{{i}}","cID":"c","callSystem":"flood {{i}}","success":false,"backsourceReason":"r{{i}}"}"""));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        var failed = (await _client.GetStringAsync("/metrics")).Split('\n').Where(l => l.StartsWith("dragonfly_dfget_download_failed_total{", StringComparison.Ordinal)).ToList();
        failed.Should().Contain("dragonfly_dfget_download_failed_total{callsystem=\"other\",peer=\"invalid\",reason=\"other\"} 300");
        failed.Should().NotContain(l => l.Contains("flood", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, "1e400", "10")]
    [InlineData(2, "-1", "10")]
    [InlineData(3, "1.5", "9223372036854775807")]
    [InlineData(4, "1.5", "-7")]
    public async Task TaskMetrics_NonFiniteOrAbsurdNumbers_LegacyErrorAndNotCounted(int n, string duration, string fileLength)
    {
        var callSystem = $"absurd{n}";
        var report = $$"""{"IP":"127.0.0.1","port":15001,"taskId":"absurd-{{n}}","cID":"c","callSystem":"{{callSystem}}","duration":{{duration}},"success":true,"fileLength":{{fileLength}}}""";

        var (status, body, text) = await _client.PostAsync("/task/metrics", JsonBody(report)).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.InternalServerError, text);
        body.GetProperty("code").GetInt32().Should().Be(500);
        var metrics = (await _client.GetStringAsync("/metrics")).Split('\n');
        metrics.Should().NotContain(l => l.StartsWith("dragonfly_dfget_download_duration_seconds", StringComparison.Ordinal) && l.Contains("Inf", StringComparison.Ordinal) && !l.Contains("le=", StringComparison.Ordinal));
        metrics.Should().NotContain(l => l.Contains($"callsystem=\"{callSystem}\"", StringComparison.Ordinal));
        var bytes = metrics.SingleOrDefault(l => l.StartsWith("dragonfly_dfget_download_size_bytes_total ", StringComparison.Ordinal));
        if (bytes is not null)
        {
            long.Parse(bytes.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture).Should().BeLessThan(1L << 40);
        }

        // Refused before the duplicate ledger: the same download's corrected report still counts.
        using var corrected = await _client.PostAsync("/task/metrics", JsonBody(report.Replace($"\"duration\":{duration}", "\"duration\":2", StringComparison.Ordinal)
            .Replace($"\"fileLength\":{fileLength}", "\"fileLength\":0", StringComparison.Ordinal)));
        corrected.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _client.GetStringAsync("/metrics")).Should().Contain($"callsystem=\"{callSystem}\"");
    }

    [Fact]
    public async Task TaskMetrics_SameDownloadReportedTwice_CountedOnce()
    {
        // The original dfget sends its report again when the reply is not a success envelope, and the reply is null.
        const string report = """{"IP":"127.0.0.1","port":15001,"taskId":"t2","cID":"c2","callSystem":"twice","duration":1.5,"success":true,"fileLength":10}""";
        for (var i = 0; i < 2; i++)
        {
            using var response = await _client.PostAsync("/task/metrics", JsonBody(report));
            (await response.Content.ReadAsStringAsync()).Should().Be("null");
        }

        using var other = await _client.PostAsync("/task/metrics", JsonBody(report.Replace("\"c2\"", "\"c3\"", StringComparison.Ordinal)));
        var metrics = await _client.GetStringAsync("/metrics");
        metrics.Should().Contain("dragonfly_dfget_download_size_bytes_total 20");
    }

    [Theory]
    [InlineData("/peer/heartbeat")]
    [InlineData("/peer/network")]
    [InlineData("/api/v1/peer/heartbeat")]
    [InlineData("/api/v1/peer/network")]
    public async Task Stubs_AnyBody_EmptyObject(string path)
    {
        using var response = await _client.PostAsync(path, JsonBody("""{"IP":"127.0.0.1"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("{}");
    }
}
