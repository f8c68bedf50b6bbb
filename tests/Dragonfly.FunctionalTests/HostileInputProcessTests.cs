using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dragonfly.FunctionalTests.Support;
using Dragonfly.TestCommon;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.FunctionalTests;

/// <summary>
/// The published programs under hostile requests (<see cref="ServerFuzz"/>): a supernode (API and download port), the
/// uploader a dfget run left behind, and a dfdaemon, all real processes on loopback. Each answers within its documented
/// statuses or drops the connection, serves nothing from outside its directories, logs no error, stays alive, and the
/// swarm still works afterwards: a second dfget takes pieces from the first one's uploader.
/// </summary>
[Trait("Category", "Fuzz")]
public class HostileInputProcessTests
{
    private const int Cases = 4;

    [Fact]
    public async Task PublishedPrograms_HostileRawRequests_StayAliveAndTheSwarmStillDistributes()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/fuzz.bin", 6L * 1024 * 1024, seed: 5);
        var url = swarm.Origin.Url("/fuzz.bin");
        var first = await swarm.DfgetAsync("peer1", url, [], cts.Token);
        first.Succeeded.Should().BeTrue(first.ToString());

        var supernode = swarm.Supernodes[0];
        var taskId = Dragonfly.Common.Identity.TaskIdentity.ComputeTaskId(url.ToString(), null, null);
        var cdnPath = $"/download/{taskId.Shard}/{taskId.Value}";
        var peerHome = swarm.Home("peer1");
        var taskFileName = Path.GetFileNameWithoutExtension(Directory.GetFiles(Path.Combine(peerHome, "data"), "*.service").Single());
        var uploaderPort = await new Dragonfly.Dfget.WorkHome.HostMetaFile(Path.Combine(peerHome, "meta", "host.meta")).ReadPortAsync(cts.Token);
        var daemonHome = swarm.Dir.Combine("dfdaemon");
        var daemonPort = ProcessHost.FreeTcpPort();
        await using var daemon = ProcessHost.Start(
            DragonflyBinaries.PathOf("dfdaemon"),
            ["--port", daemonPort.ToString(CultureInfo.InvariantCulture), "--workHome", daemonHome, "--node", $"127.0.0.1:{supernode.Port}", "--registry", swarm.Origin.Url("/").ToString()]);
        await daemon.WaitForLineAsync(line => line.Contains("listening on", StringComparison.Ordinal), cts.Token);
        var secrets = ServerJudges.PlantSecrets(supernode.Home).Concat(ServerJudges.PlantSecrets(peerHome)).Concat(ServerJudges.PlantSecrets(daemonHome)).ToArray();
        var ping = "GET /_ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();

        await new ServerFuzz
        {
            Port = supernode.Port,
            Requests = new HttpRequestFuzz(["/_ping", "/peer/registry", $"/peer/task?taskId={taskId.Value}&srcCid=x&status=700", "/api/v1/peers", $"/api/v1/tasks/{taskId.Value}", "/preheats", "/metrics", "/v1.0/version"], ["Content-Type: application/json"]) { Bodies = (random, _) => JsonFuzz.Document(random) },
            Valid = ping,
            IsValidAnswer = a => a.Status == 200 && a.Body.AsSpan().SequenceEqual("OK"u8),
            Judge = ServerJudges.SupernodeApi,
            Secrets = secrets,
        }.RunAsync(Cases, member: "SupernodeApi");
        await new ServerFuzz
        {
            Port = supernode.DownloadPort,
            Requests = new HttpRequestFuzz([cdnPath, "/download/", cdnPath + "/..", "/"], ["Range: bytes=0-9", "Range: bytes=0-4194303"]),
            Valid = Encoding.ASCII.GetBytes($"GET {cdnPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-9\r\n\r\n"),
            IsValidAnswer = a => a.Status == 206 && a.Body.Length == 10,
            Judge = ServerJudges.DownloadPort(cdnPath),
            Secrets = secrets,
        }.RunAsync(Cases, member: "DownloadPort");
        await new ServerFuzz
        {
            Port = uploaderPort,
            Requests = new HttpRequestFuzz([$"/peer/file/{taskFileName}", $"/check/{taskFileName}", $"/rate/{taskFileName}", "/server/ping", "/peer/file/..%2fsecret.txt", "/client/finish?taskFileName=x"], ["Range: bytes=0-4194303", "pieceNum: 0", "pieceSize: 4194304", "dataDir: /", "rateLimit: 1"]),
            Valid = "GET /server/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray(),
            IsValidAnswer = a => a.Status == 200 && a.Body.AsSpan().SequenceEqual("success"u8),
            Judge = ServerJudges.Uploader(taskFileName),
            Secrets = secrets,
        }.RunAsync(Cases, member: "Uploader");
        var digest = Convert.ToHexStringLower(SHA256.HashData("x"u8));
        await new ServerFuzz
        {
            Port = daemonPort,
            Requests = new HttpRequestFuzz([$"/v2/library/a/blobs/sha256:{digest}", "/v2/", "/_ping", "/args", "/env", "/metrics", $"http://127.0.0.1:{supernode.Port}/_ping", $"127.0.0.1:{supernode.Port}"], ["Authorization: Bearer t"]),
            Valid = ping,
            IsValidAnswer = a => a.Status == 200 && a.Body.AsSpan().SequenceEqual("OK"u8),
            Judge = ServerJudges.Dfdaemon,
            Secrets = secrets,
        }.RunAsync(Cases, member: "Dfdaemon");

        supernode.Host!.HasExited.Should().BeFalse("the supernode survives hostile requests");
        daemon.HasExited.Should().BeFalse("dfdaemon survives hostile requests");
        ErrorLines(supernode.Host.Output).Should().BeEmpty("the supernode meets hostile input with statuses, not exceptions");
        ErrorLines(daemon.Output).Should().BeEmpty("dfdaemon meets hostile input with statuses, not exceptions");
        ErrorLines(await File.ReadAllTextAsync(Path.Combine(peerHome, "logs", "dfserver.log"), cts.Token)).Should().BeEmpty("the uploader meets hostile input with statuses, not exceptions");

        var second = await swarm.DfgetAsync("peer2", url, [], cts.Token);
        second.Succeeded.Should().BeTrue(second.ToString());
        (await P2PDistributionTests.Md5Hex(second.OutputPath)).Should().Be(file.Md5());
        second.FromPeers.Should().BeGreaterThan(0, "the first peer's uploader still serves its pieces: " + second);
    }

    private static string[] ErrorLines(string log) =>
        [.. log.Split('\n').Where(l => l.Contains(" EROR ", StringComparison.Ordinal) || l.Contains(" FATL ", StringComparison.Ordinal)).Take(5)];
}
