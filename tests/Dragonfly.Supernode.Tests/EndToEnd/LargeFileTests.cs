using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dragonfly.Common.Pieces;
using Dragonfly.TestCommon;

namespace Dragonfly.Supernode.Tests.EndToEnd;

/// <summary>
/// A 300 MiB source through the real supernode host on real sockets: registration picks the non-default 5 MiB piece size
/// (§2.3), the CDN cuts 5 MiB wrapped pieces, and the download port serves them with heads that declare 5 MiB.
/// </summary>
public sealed class LargeFileTests
{
    private const long Length = 300L * 1024 * 1024;
    private const int FiveMiB = 5 * 1024 * 1024;

    [Fact]
    public async Task Register_300MiBSource_CdnCutsAndServesFiveMiBPieces()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        await using var origin = await OriginServer.StartAsync(ct);
        var file = origin.AddFile("/large.bin", Length, seed: 300);
        await using var supernode = await SupernodeTestHost.StartAsync(cancellationToken: ct);
        using var http = new HttpClient { BaseAddress = supernode.Api, Timeout = TimeSpan.FromSeconds(30) };
        var url = origin.Url("/large.bin").ToString();

        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["superNodeIp"] = "127.0.0.1", ["rawUrl"] = url, ["taskUrl"] = url, ["cid"] = "127.0.0.1-1-1.000",
            ["ip"] = "127.0.0.1", ["hostName"] = "large", ["port"] = 15001, ["path"] = "/peer/file/large", ["version"] = "1.0.6",
        });
        using var registered = await http.PostAsync("peer/registry", new StringContent(body, Encoding.UTF8, "application/json"), ct);
        using var envelope = JsonDocument.Parse(await registered.Content.ReadAsStringAsync(ct));
        var data = envelope.RootElement.GetProperty("data");
        data.GetProperty("pieceSize").GetInt32().Should().Be(FiveMiB);
        data.GetProperty("fileLength").GetInt64().Should().Be(Length);
        var taskId = data.GetProperty("taskId").GetString()!;

        JsonElement task;
        while (true)
        {
            using var info = JsonDocument.Parse(await http.GetStringAsync($"api/v1/tasks/{taskId}", ct));
            task = info.RootElement.Clone();
            if (task.GetProperty("cdnStatus").GetString() is "SUCCESS" or "FAILED")
            {
                break;
            }

            await Task.Delay(100, ct);
        }

        var pieces = PieceLayout.PieceCount(Length, FiveMiB);
        task.GetProperty("cdnStatus").GetString().Should().Be("SUCCESS");
        task.GetProperty("pieceSize").GetInt32().Should().Be(FiveMiB);
        task.GetProperty("pieceTotal").GetInt32().Should().Be(pieces);
        task.GetProperty("fileLength").GetInt64().Should().Be(Length + (5L * pieces));
        task.GetProperty("realMd5").GetString().Should().Be(file.Md5());

        // The last (short) piece from the download port: its head declares the 5 MiB piece size.
        var last = pieces - 1;
        using var download = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(supernode.Download, $"download/{taskId[..3]}/{taskId}"));
        request.Headers.Range = new RangeHeaderValue((long)last * FiveMiB, ((long)last * FiveMiB) + FiveMiB - 1);
        using var response = await download.SendAsync(request, ct);
        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        var wrapped = await response.Content.ReadAsByteArrayAsync(ct);
        PieceFrame.ReadHead(wrapped).Should().Be((PieceLayout.ContentLength(last, FiveMiB, Length), FiveMiB));
        PieceFrame.TryUnwrap(wrapped, out var content).Should().BeTrue();
        var expected = new byte[content.Length];
        file.Fill(PieceLayout.SourceOffset(last, FiveMiB), expected);
        content.SequenceEqual(expected).Should().BeTrue(string.Create(CultureInfo.InvariantCulture, $"piece {last} matches the source"));
    }
}
