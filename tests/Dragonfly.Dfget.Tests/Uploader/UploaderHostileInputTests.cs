using System.Net;
using System.Text;
using Dragonfly.Common.Pieces;
using Dragonfly.TestCommon;
using Dragonfly.TestCommon.Fuzzing;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Tests.Uploader;

/// <summary>
/// Seeded random edits of every kind of request a real uploader answers (a piece on the <c>sendfile</c> path,
/// <c>/check/</c>, <c>/rate/</c>, <c>/client/finish</c>, <c>/server/ping</c>), each on its own loopback connection. Every
/// one is answered with a clear status or dropped, none meets an exception, no file in the work home appears or
/// disappears, and the uploader still serves its piece afterwards. A failure names the seed and the request.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class UploaderHostileInputTests : IDisposable
{
    private const int Connections = 600;
    private const int FourMiB = 4 * 1024 * 1024;
    private const string Name = "hostile.bin-4242-1795238008.142";

    // 500 is the protocol's answer to an unknown task file (PROTOCOL.md §3.4); an exception would show in the log instead.
    private static readonly int[] Answers = [200, 206, 400, 404, 405, 408, 414, 416, 431, 500, 505];

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(3));
    private readonly ListLoggerProvider _logs = new(LogLevel.Error);
    private readonly ILoggerFactory _loggerFactory;

    public UploaderHostileInputTests() => _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs));

    public void Dispose()
    {
        _loggerFactory.Dispose();
        _timeout.Dispose();
    }

    [Fact]
    public async Task SeededMutatedRequests_AreAnsweredOrDropped_TouchNoFile_AndThePieceIsStillServed()
    {
        await using var host = await UploaderTestHost.StartAsync(loggerFactory: _loggerFactory);
        var source = await host.AddTaskAsync(Name, 5_000_000);
        var files = FilesUnder(host.Temp.Path);
        string[] valid =
        [
            UploaderTestHost.RawPieceHead(Name, "bytes=0-4194303", 0, FourMiB),
            UploaderTestHost.RawPieceHead(Name, "bytes=100-199", 0, FourMiB, "cdnSource: source\r\n"),
            $"GET /check/{Name} HTTP/1.1\r\nHost: 127.0.0.1\r\ndataDir: {host.DataDir}\r\ntotalLimit: 0\r\n\r\n",
            $"GET /rate/{Name} HTTP/1.1\r\nHost: 127.0.0.1\r\nrateLimit: 100000000\r\n\r\n",
            $"GET /client/finish?taskFileName={Name}&taskID=abc&cid=127.0.0.1-1-1.000&superNode=127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            "GET /server/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        ];
        var silent = 0;

        await Fuzzer.RunAsync(Connections, async c =>
        {
            var bytes = RequestMutations.Mutate(c.Random, Encoding.ASCII.GetBytes(c.Pick(valid)));
            c.SetInput(bytes);
            if (await RawHttpResponse.StatusOfEditedRequestAsync(host.Port, bytes, TimeSpan.FromSeconds(2), c.CancellationToken) is { } status)
            {
                Answers.Should().Contain(status);
            }
            else
            {
                silent++;
            }
        });

        silent.Should().BeLessThan(FuzzSettings.Current.Cases(Connections) / 20, "nearly every edited request is answered; a server that hung would answer none");

        _logs.Lines.Take(5).Should().BeEmpty("hostile input is refused with a status, never met with an exception");
        FilesUnder(host.Temp.Path).Should().BeEquivalentTo(files, "no request creates, moves or deletes a file");
        using var piece = await host.GetPieceAsync(Name, "bytes=0-4194303", "0", FourMiB.ToString(System.Globalization.CultureInfo.InvariantCulture));
        piece.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        PieceFrame.TryUnwrap(await piece.Content.ReadAsByteArrayAsync(_timeout.Token), out var content).Should().BeTrue();
        content.SequenceEqual(source.AsSpan(0, FourMiB - 5)).Should().BeTrue("the uploader still serves the piece after the barrage");
    }

    [Fact]
    public async Task HostileRawRequests_DocumentedStatusNothingOutsideTheDataDirAndItKeepsServing()
    {
        await using var host = await UploaderTestHost.StartAsync(loggerFactory: _loggerFactory);
        var source = await host.AddTaskAsync(Name, 5_000_000);
        var secrets = ServerJudges.PlantSecrets(host.Temp.Path);
        var files = FilesUnder(host.Temp.Path);
        string[] paths =
        [
            $"/peer/file/{Name}", "/peer/file/unknown.bin-1-2.000", $"/peer/file/{Uri.EscapeDataString(Name)}", $"/check/{Name}", "/check/other.bin-1-2.000", $"/rate/{Name}",
            $"/client/finish?taskFileName={Name}&taskID={new string('a', 64)}&cid=127.0.0.1-1-1.000&superNode=127.0.0.1:1", $"/client/abandon?taskFileName=other.bin-1-2.000",
            "/server/ping", "/peer/file/", "/peer/file/secret.txt", "/peer/file/..%2fsecret.txt", "/peer/file/..%2F..%2Fsecret.txt", "/check/..%2fsecret.txt",
        ];
        var fuzz = new ServerFuzz
        {
            Port = host.Port,
            Requests = new HttpRequestFuzz(paths, ["Range: bytes=0-4194303", "pieceNum: 0", "pieceSize: 4194304", "Range: bytes=4194304-8388607\r\npieceNum: 1\r\npieceSize: 4194304", "cdnSource: source", $"dataDir: {host.DataDir}", "dataDir: " + host.Temp.Path, "totalLimit: 0", "rateLimit: 1000000"]),
            Valid = "GET /server/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray(),
            IsValidAnswer = a => a.Status == 200 && a.Body.AsSpan().SequenceEqual("success"u8),
            Judge = ServerJudges.Uploader(Name),
            Secrets = secrets,
        };

        await fuzz.RunAsync(10);
        await fuzz.SlowClientsAsync(100, _timeout.Token);
        await fuzz.CheckStillServesAsync(_timeout.Token);

        _logs.Lines.Take(5).Should().BeEmpty("hostile input is refused with a status, never met with an exception");
        FilesUnder(host.Temp.Path).Should().BeEquivalentTo(files, "no request creates, moves or deletes a file");
        // A fuzzed /client/abandon may have withdrawn the task: its client registers it again, as a download would.
        using (var check = await host.CheckAsync(Name, host.DataDir, "0"))
        {
            check.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var piece = await host.GetPieceAsync(Name, "bytes=0-4194303", "0", FourMiB.ToString(System.Globalization.CultureInfo.InvariantCulture));
        piece.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        PieceFrame.TryUnwrap(await piece.Content.ReadAsByteArrayAsync(_timeout.Token), out var content).Should().BeTrue();
        content.SequenceEqual(source.AsSpan(0, FourMiB - 5)).Should().BeTrue("the uploader still serves the piece after the barrage");
    }

    private static string[] FilesUnder(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal)];
}
