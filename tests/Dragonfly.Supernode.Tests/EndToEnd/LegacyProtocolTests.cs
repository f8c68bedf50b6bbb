using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.TestCommon;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Supernode.Tests.EndToEnd;

/// <summary>
/// Drives the real supernode (real sockets, both ports 0) by hand exactly as the original dfget does (§1.4, §3.2):
/// register → pull START → wait/continue → piece downloads with Range from the download port → RUNNING reports and
/// <c>/peer/piece/suc</c> → 600 with md5 and the wrapped length; a second client is scheduled on the first one's uploader.
/// </summary>
public sealed class LegacyProtocolTests
{
    private const int PieceSize = 4 * 1024 * 1024;

    [Fact]
    public async Task LegacyDfgetFlow_TwoClients_FinishesAndSecondClientUsesFirstUploader()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        await using var origin = await OriginServer.StartAsync(ct);
        var length = (2 * (PieceSize - 5)) + 123_457; // three pieces, the last one short
        var file = origin.AddFile("/files/a.bin", length, seed: 7);
        await using var supernode = await SupernodeTestHost.StartAsync(cancellationToken: ct);
        using var http = new HttpClient { BaseAddress = supernode.Api, Timeout = TimeSpan.FromSeconds(30) };

        // The supernode registered itself as the CDN peer with the REAL download port.
        var self = supernode.Services.GetRequiredService<IPeerMgr>().Supernode;
        self.Should().NotBeNull();
        self!.Port.Should().Be(supernode.Runtime.DownloadPort);
        supernode.Runtime.SupernodePeerId.Should().Be(self.Id);

        var url = origin.Url("/files/a.bin").ToString();
        const string cidA = "127.0.0.1-101-1795238008.142";
        var taskId = await RegisterAsync(http, url, cidA, port: 15001, ct);

        var pieces = await DownloadAllAsync(http, supernode, taskId, cidA, file, ct);
        pieces.Should().HaveCount(3);
        pieces.Values.Should().OnlyContain(owner => owner.StartsWith("cdnnode:127.0.0.1~", StringComparison.Ordinal));

        // The byte accounting of the download port and the per-route request counters are exported.
        var metrics = await http.GetStringAsync("metrics", ct);
        metrics.Should().MatchRegex("dragonfly_supernode_download_port_bytes_total [1-9][0-9]+");
        metrics.Should().MatchRegex("dragonfly_supernode_http_requests_total\\{code=\"200\",handler=\"/peer/task\"\\} [1-9]");
        metrics.Should().MatchRegex("dragonfly_supernode_http_requests_total\\{code=\"206\",handler=\"/download/\\{shard\\}/\\{taskId\\}\"\\} 3");

        // Second client: every piece is now held by client A's uploader, which has room for all of them.
        const string cidB = "127.0.0.1-102-1795238009.001";
        (await RegisterAsync(http, url, cidB, port: 15002, ct)).Should().Be(taskId);
        using var start = await GetEnvelopeAsync(http, $"peer/task?srcCid={cidB}&dstCid=&range=&result=502&status=700&taskId={taskId}", ct);
        Code(start).Should().Be(601);
        var assigned = start.RootElement.GetProperty("data").EnumerateArray().ToList();
        assigned.Should().NotBeEmpty();
        assigned.Should().OnlyContain(p => p.GetProperty("cid").GetString() == cidA);
        assigned.Should().OnlyContain(p => p.GetProperty("peerPort").GetInt32() == 15001);
        assigned.Should().OnlyContain(p => p.GetProperty("path").GetString() == "/peer/file/a.bin-" + cidA);

        // Service down: 612 once, then an error (the peer has been offline).
        using (var down = await GetEnvelopeAsync(http, $"peer/service/down?taskId={taskId}&cid={cidA}", ct))
        {
            Code(down).Should().Be(612);
        }

        using var again = await http.GetAsync($"peer/service/down?taskId={taskId}&cid={cidA}", ct);
        again.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await again.Content.ReadAsStringAsync(ct)).Should().Contain("\"code\":500");
    }

    [Fact]
    public async Task Register_SourceCdnPattern_ReportsCdnSourceSource()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var origin = await OriginServer.StartAsync(cts.Token);
        origin.AddFile("/s.bin", 10_000, seed: 2);
        await using var supernode = await SupernodeTestHost.StartAsync(o => o with { CdnPattern = "source" }, cts.Token);
        using var http = new HttpClient { BaseAddress = supernode.Api };

        using var response = await http.PostAsync("peer/registry", Json(RegisterBody(origin.Url("/s.bin").ToString(), "127.0.0.1-3-3.000", 15003)), cts.Token);
        var text = await response.Content.ReadAsStringAsync(cts.Token);

        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        using var body = JsonDocument.Parse(text);
        body.RootElement.GetProperty("data").GetProperty("cdnSource").GetString().Should().Be("source");
    }

    [Fact]
    public async Task Register_UnreachableSource_Http500WithEnvelope()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var origin = await OriginServer.StartAsync(cts.Token);
        await using var supernode = await SupernodeTestHost.StartAsync(cancellationToken: cts.Token);
        using var http = new HttpClient { BaseAddress = supernode.Api };

        using var response = await http.PostAsync("peer/registry", Json(RegisterBody(origin.Url("/missing.bin").ToString(), "127.0.0.1-1-1.000", 15001)), cts.Token);

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cts.Token));
        body.RootElement.GetProperty("code").GetInt32().Should().Be(500);
        body.RootElement.GetProperty("message").GetString().Should().Contain("\"Code\":12");
    }

    [Fact]
    public async Task DownloadPort_ServesOnlyCdnFiles_ApiPortDoesNotServeThem()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var supernode = await SupernodeTestHost.StartAsync(cancellationToken: cts.Token);
        using var http = new HttpClient();

        (await http.GetAsync(new Uri(supernode.Download, "_ping"), cts.Token)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await http.GetAsync(new Uri(supernode.Api, "_ping"), cts.Token)).StatusCode.Should().Be(HttpStatusCode.OK);
        var someTask = new string('a', 64);
        (await http.GetAsync(new Uri(supernode.Api, $"download/aaa/{someTask}"), cts.Token)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        File.Exists(Path.Combine(supernode.HomeDir, "logs", "app.log")).Should().BeTrue();
    }

    /// <summary>Pulls, downloads and reports pieces until 600; returns piece range → uploader cid.</summary>
    private static async Task<Dictionary<string, string>> DownloadAllAsync(HttpClient http, SupernodeTestHost supernode, string taskId, string cid, OriginFile file, CancellationToken ct)
    {
        using var peers = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var done = new Dictionary<string, string>(StringComparer.Ordinal);
        var query = $"peer/task?srcCid={cid}&dstCid=&range=&result=502&status=700&taskId={taskId}";
        var sawStartCode = false;
        for (var round = 0; round < 2000; round++)
        {
            using var pull = await GetEnvelopeAsync(http, query, ct);
            var code = Code(pull);
            if (!sawStartCode)
            {
                code.Should().BeOneOf(601, 602);
                sawStartCode = true;
            }

            if (code == 600)
            {
                var data = pull.RootElement.GetProperty("data");
                data.GetProperty("md5").GetString().Should().Be(file.Md5());
                data.GetProperty("fileLength").GetInt64().Should().Be(PieceLayout.WrappedLength(file.Length, PieceSize));
                return done;
            }

            if (code == 602 || (code == 601 && pull.RootElement.GetProperty("data").GetArrayLength() == 0))
            {
                await Task.Delay(50, ct);
                continue;
            }

            code.Should().Be(601, pull.RootElement.ToString());
            string? lastRange = null;
            string? lastOwner = null;
            foreach (var piece in pull.RootElement.GetProperty("data").EnumerateArray())
            {
                var range = piece.GetProperty("range").GetString()!;
                var owner = piece.GetProperty("cid").GetString()!;
                var pieceNum = piece.GetProperty("pieceNum").GetInt32();
                piece.GetProperty("peerIp").GetString().Should().Be("127.0.0.1");
                piece.GetProperty("peerPort").GetInt32().Should().Be(supernode.Runtime.DownloadPort);
                await FetchAndVerifyPieceAsync(peers, piece, file, ct);

                using var suc = await GetEnvelopeAsync(http, $"peer/piece/suc?taskId={taskId}&cid={cid}&dstCid={owner}&pieceRange={range}", ct);
                Code(suc).Should().Be(611);
                done[range] = owner;
                (lastRange, lastOwner) = (range, owner);
                pieceNum.Should().Be(PieceRange.Parse(range).PieceNum);
            }

            // dfget's next pull carries the last finished piece (unescaped values).
            query = $"peer/task?srcCid={cid}&dstCid={lastOwner}&range={lastRange}&result=501&status=701&taskId={taskId}";
        }

        throw new TimeoutException("the task never finished");
    }

    private static async Task FetchAndVerifyPieceAsync(HttpClient peers, JsonElement piece, OriginFile file, CancellationToken ct)
    {
        var range = PieceRange.Parse(piece.GetProperty("range").GetString()!);
        var pieceNum = piece.GetProperty("pieceNum").GetInt32();
        var uri = new Uri($"http://{piece.GetProperty("peerIp").GetString()}:{piece.GetProperty("peerPort").GetInt32()}{piece.GetProperty("path").GetString()}");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Range = new RangeHeaderValue(range.Start, range.End);
        request.Headers.Add("pieceNum", pieceNum.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("pieceSize", piece.GetProperty("pieceSize").GetInt32().ToString(CultureInfo.InvariantCulture));
        using var response = await peers.SendAsync(request, ct);
        response.IsSuccessStatusCode.Should().BeTrue($"piece {range} from {uri}: {response.StatusCode}");
        var body = await response.Content.ReadAsByteArrayAsync(ct);

        PieceMd5.TryParse(piece.GetProperty("pieceMd5").GetString(), out var expected).Should().BeTrue();
        Md5Hex.Of(body).Should().Be(expected.Md5);
        body.Length.Should().Be(expected.WrappedLength);
        PieceFrame.TryUnwrap(body, out var content).Should().BeTrue();
        var sourceOffset = (long)pieceNum * (PieceSize - 5);
        var original = new byte[content.Length];
        file.Fill(sourceOffset, original);
        content.SequenceEqual(original).Should().BeTrue($"piece {pieceNum} content matches the source");
    }

    private static async Task<string> RegisterAsync(HttpClient http, string url, string cid, int port, CancellationToken ct)
    {
        using var response = await http.PostAsync("peer/registry", Json(RegisterBody(url, cid, port)), ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        using var body = JsonDocument.Parse(text);
        Code(body).Should().Be(200);
        body.RootElement.GetProperty("msg").GetString().Should().Be("success");
        var data = body.RootElement.GetProperty("data");
        data.GetProperty("pieceSize").GetInt32().Should().Be(PieceSize);
        data.GetProperty("cdnSource").GetString().Should().Be("supernode");
        return data.GetProperty("taskId").GetString()!;
    }

    /// <summary>The body the original dfget sends (its lower-camel field names).</summary>
    private static string RegisterBody(string url, string cid, int port) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["superNodeIp"] = "127.0.0.1",
        ["rawUrl"] = url,
        ["taskUrl"] = url,
        ["cid"] = cid,
        ["ip"] = "127.0.0.1",
        ["hostName"] = "client-" + port.ToString(CultureInfo.InvariantCulture),
        ["port"] = port,
        ["path"] = "/peer/file/a.bin-" + cid,
        ["version"] = "1.0.6",
    });

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonDocument> GetEnvelopeAsync(HttpClient http, string pathAndQuery, CancellationToken ct)
    {
        using var response = await http.GetAsync(pathAndQuery, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        response.StatusCode.Should().Be(HttpStatusCode.OK, $"{pathAndQuery} → {text}");
        return JsonDocument.Parse(text);
    }

    private static int Code(JsonDocument doc) => doc.RootElement.GetProperty("code").GetInt32();
}
