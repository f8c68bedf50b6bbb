using System.Text;
using Dragonfly.Common.Identity;
using Dragonfly.FunctionalTests.Support;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>The dfget behaviour scenarios of PROTOCOL.md §7, run as real processes against a real supernode.</summary>
public class DfgetScenarioTests
{
    [Fact]
    public async Task EmptyFile_DownloadsZeroBytes()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        swarm.Origin.AddFile("/empty.bin", []);

        var run = await swarm.DfgetAsync("p", swarm.Origin.Url("/empty.bin"), [], cts.Token);

        run.Succeeded.Should().BeTrue(run.ToString());
        new FileInfo(run.OutputPath).Length.Should().Be(0);
    }

    [Fact]
    public async Task Source404_WithNotbs_FailsWithReason1001Exit80()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);

        var run = await swarm.DfgetAsync("p", swarm.Origin.Url("/missing.bin"), ["--notbs"], cts.Token);

        run.ExitCode.Should().Be(80, run.ToString());
        run.Reason.Should().Be(1001, run.ToString());
        File.Exists(run.OutputPath).Should().BeFalse();
    }

    [Fact]
    public async Task Source404_WithoutNotbs_BackSourceFailsWithReason1Exit80()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);

        var run = await swarm.DfgetAsync("p", swarm.Origin.Url("/missing.bin"), [], cts.Token);

        run.ExitCode.Should().Be(80, run.ToString());
        run.Reason.Should().Be(1, run.ToString());
        File.Exists(run.OutputPath).Should().BeFalse();
    }

    [Fact]
    public async Task WrongMd5_WithNotbs_FailsWithReason1003()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        swarm.Origin.AddFile("/md5.bin", 1024 * 1024, seed: 3);

        var run = await swarm.DfgetAsync("p", swarm.Origin.Url("/md5.bin"), ["--notbs", "-m", "0123456789abcdef0123456789abcdef"], cts.Token);

        run.ExitCode.Should().Be(80, run.ToString());
        run.Reason.Should().Be(1003, run.ToString());
        File.Exists(run.OutputPath).Should().BeFalse();
    }

    [Fact]
    public async Task PatternSource_SkipsSupernode_Reason100()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/src.bin", 3 * 1024 * 1024, seed: 4);

        var run = await swarm.DfgetAsync("p", swarm.Origin.Url("/src.bin"), ["-p", "source"], cts.Token);

        run.Succeeded.Should().BeTrue(run.ToString());
        run.Reason.Should().Be(100);
        (await P2PDistributionTests.Md5Hex(run.OutputPath)).Should().Be(file.Md5());
        using var http = new HttpClient();
        var taskId = TaskIdentity.ComputeTaskId(swarm.Origin.Url("/src.bin").ToString(), null, null);
        var task = await http.GetAsync(new Uri($"http://127.0.0.1:{swarm.Supernodes[0].Port}/api/v1/tasks/{taskId}"), cts.Token);
        ((int)task.StatusCode).Should().Be(404, "the supernode never heard of the task");
    }

    [Fact]
    public async Task UnreachableSupernode_BacksOffToSource_Reason1Exit0()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(0, cts.Token);
        var file = swarm.Origin.AddFile("/b.bin", 2 * 1024 * 1024, seed: 5);
        var deadPort = Dragonfly.TestCommon.ProcessHost.FreeTcpPort();

        var run = await swarm.DfgetAsync("p", swarm.Origin.Url("/b.bin"), ["-n", $"127.0.0.1:{deadPort}"], cts.Token, withNodes: false);

        run.Succeeded.Should().BeTrue(run.ToString());
        run.Reason.Should().Be(1);
        run.FromOrigin.Should().Be(file.Length, run.ToString());
        (await P2PDistributionTests.Md5Hex(run.OutputPath)).Should().Be(file.Md5());
    }

    [Fact]
    public async Task Timeout1ms_WithNotbs_FailsWithReason1000()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/slow.bin", 8 * 1024 * 1024, seed: 6);
        file.ChunkDelay = TimeSpan.FromMilliseconds(50);

        var run = await swarm.DfgetAsync("p", swarm.Origin.Url("/slow.bin"), ["--timeout", "1ms", "--notbs"], cts.Token);

        run.ExitCode.Should().Be(80, run.ToString());
        run.Reason.Should().Be(1000, run.ToString());
        run.Output.Should().Contain("timeout");
        File.Exists(run.OutputPath).Should().BeFalse();
    }

    [Theory]
    [InlineData("TERM", "p2p")]
    [InlineData("HUP", "p2p")]
    [InlineData("TERM", "source")]
    public async Task Signal_MidDownload_LeavesNoPartialFile(string signal, string pattern)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/slow.bin", 8 * 1024 * 1024, seed: 23);
        file.ChunkDelay = TimeSpan.FromMilliseconds(50);
        var outDir = Path.GetDirectoryName(swarm.Output("p"))!;
        Directory.CreateDirectory(outDir);
        await using var dfget = ProcessHost.Start(
            DragonflyBinaries.PathOf("dfget"),
            ["-u", swarm.Origin.Url("/slow.bin").ToString(), "-o", swarm.Output("p"), "--home", swarm.Home("p"), "--ip", "127.0.0.1",
             "--alivetime", "60s", "-n", $"127.0.0.1:{swarm.Supernodes[0].Port}", "-p", pattern]);

        // Under way: bytes on disk beside the output (the back-source temp file) or in the work home (the .service file).
        var dataDir = Path.Combine(swarm.Home("p"), "data");
        while (!PartialFiles(outDir, dataDir).Any(f => new FileInfo(f).Length > 0))
        {
            dfget.HasExited.Should().BeFalse(dfget.Output);
            await Task.Delay(50, cts.Token);
        }

        var (killExit, killOutput) = await ProcessHost.RunAsync("kill", [$"-{signal}", dfget.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], cts.Token);
        killExit.Should().Be(0, killOutput);
        await dfget.WaitForExitAsync(cts.Token);

        dfget.ExitCode.Should().Be(130, "the download stops itself as after Ctrl-C; a process ended by the signal exits 128 + its number: " + dfget.Output);
        File.Exists(swarm.Output("p")).Should().BeFalse();
        PartialFiles(outDir, dataDir).Should().BeEmpty("a stopped download removes its temporary and .service files");
    }

    /// <summary>
    /// A download stopped while its uploader serves its pieces takes them back: the supernode hears service-down for this
    /// peer before dfget exits (so a second report of the same peer is refused as "has been offline"), and the uploader
    /// answers 404 for the name, so no peer the supernode sent here before is served a deleted file.
    /// </summary>
    [Fact]
    public async Task Sigterm_WhileServingPieces_ReportsServiceDownAndTheUploaderAnswers404()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/served.bin", 8 * 1024 * 1024, seed: 29);
        file.ChunkDelay = TimeSpan.FromMilliseconds(50);
        var url = swarm.Origin.Url("/served.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(swarm.Output("p"))!);
        await using var dfget = ProcessHost.Start(
            DragonflyBinaries.PathOf("dfget"),
            ["-u", url.ToString(), "-o", swarm.Output("p"), "--home", swarm.Home("p"), "--ip", "127.0.0.1",
             "--alivetime", "60s", "-n", $"127.0.0.1:{swarm.Supernodes[0].Port}"]);
        var dataDir = Path.Combine(swarm.Home("p"), "data");
        while (!Directory.Exists(dataDir) || !Directory.GetFiles(dataDir, "*.service").Any(f => new FileInfo(f).Length > 0))
        {
            dfget.HasExited.Should().BeFalse(dfget.Output);
            await Task.Delay(50, cts.Token);
        }

        using var http = new HttpClient();
        var supernode = $"http://127.0.0.1:{swarm.Supernodes[0].Port}";
        var taskId = TaskIdentity.ComputeTaskId(url.ToString(), null, null).Value;
        var swarmView = await http.GetStringAsync(new Uri($"{supernode}/api/v1/tasks/{taskId}/swarm"), cts.Token);
        var cid = System.Text.Json.JsonSerializer.Deserialize(swarmView, Dragonfly.Common.Api.DragonflyJsonContext.Default.SwarmView)!
            .Peers.Should().ContainSingle().Subject.Cid!;
        var taskFileName = "p-" + cid["127.0.0.1-".Length..];
        var uploaderPort = await new Dragonfly.Dfget.WorkHome.HostMetaFile(Path.Combine(swarm.Home("p"), "meta", "host.meta")).ReadPortAsync(cts.Token);
        uploaderPort.Should().BeGreaterThan(0);

        var (killExit, killOutput) = await ProcessHost.RunAsync("kill", ["-TERM", dfget.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], cts.Token);
        killExit.Should().Be(0, killOutput);
        await dfget.WaitForExitAsync(cts.Token);

        dfget.ExitCode.Should().Be(130, dfget.Output);
        using var again = await http.GetAsync(new Uri($"{supernode}/peer/service/down?taskId={taskId}&cid={cid}"), cts.Token);
        var againBody = await again.Content.ReadAsStringAsync(cts.Token);
        ((int)again.StatusCode).Should().Be(500, "dfget already reported this peer service-down: " + againBody);
        againBody.Should().Contain("offline");
        using var piece = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{uploaderPort}/peer/file/{taskFileName}"));
        piece.Headers.TryAddWithoutValidation("Range", "bytes=0-4194303");
        piece.Headers.TryAddWithoutValidation("pieceNum", "0");
        piece.Headers.TryAddWithoutValidation("pieceSize", "4194304");
        using var pieceResponse = await http.SendAsync(piece, cts.Token);
        ((int)pieceResponse.StatusCode).Should().Be(404, "the uploader no longer serves the abandoned name");
        Directory.GetFiles(dataDir).Should().BeEmpty();
    }

    private static IEnumerable<string> PartialFiles(string outDir, string dataDir) =>
        Directory.GetFiles(outDir).Concat(Directory.Exists(dataDir) ? Directory.GetFiles(dataDir) : []);

    [Fact]
    public async Task FilterFlag_DropsQueryKeyFromTaskIdentity()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/small.bin", 512 * 1024, seed: 7);
        var raw = swarm.Origin.Url("/small.bin?sign=abc&x=1");

        var run = await swarm.DfgetAsync("p", raw, ["-f", "sign", "--md5", file.Md5()], cts.Token);

        run.Succeeded.Should().BeTrue(run.ToString());
        var expected = TaskIdentity.ComputeTaskId(swarm.Origin.Url("/small.bin?x=1").ToString(), file.Md5(), null);
        using var http = new HttpClient();
        var task = await http.GetAsync(new Uri($"http://127.0.0.1:{swarm.Supernodes[0].Port}/api/v1/tasks/{expected}"), cts.Token);
        task.IsSuccessStatusCode.Should().BeTrue("the task id ignores the filtered 'sign' key");
    }

    [Fact]
    public async Task HeaderFlag_ReachesOriginThroughSupernode()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/private.bin", 2 * 1024 * 1024, seed: 8);
        file.RequireBasicAuth("alice", "secret");
        var auth = "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("alice:secret"));

        var run = await swarm.DfgetAsync("p", swarm.Origin.Url("/private.bin"), ["--header", $"Authorization: {auth}", "--notbs"], cts.Token);

        run.Succeeded.Should().BeTrue(run.ToString());
        run.FromOrigin.Should().Be(0, "the file came through the supernode, which passed the header on");
        (await P2PDistributionTests.Md5Hex(run.OutputPath)).Should().Be(file.Md5());
        swarm.Origin.Requests.Where(r => r.Path == "/private.bin").Should().OnlyContain(r => r.Authorization == auth);
    }

    [Fact]
    public async Task FullDiskUnderWorkHome_FailsWithReason1004AndLeavesNoFile()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        swarm.Origin.AddFile("/eight.bin", 8L * 1024 * 1024, seed: 21);
        await using var disk = await TmpfsMount.CreateAsync(swarm.Home("full"), "2m", () => swarm.KillUploader("full"), cts.Token);

        var run = await swarm.DfgetAsync("full", swarm.Origin.Url("/eight.bin"), [], cts.Token);

        run.ExitCode.Should().Be(80, run.ToString());
        run.Reason.Should().Be(1004, "no space: going back to the origin would fill the same disk; " + run);
        run.Output.Should().Contain("No space left on device");
        File.Exists(run.OutputPath).Should().BeFalse();
        Directory.GetFiles(Path.Combine(swarm.Home("full"), "data")).Should().BeEmpty("the half-written piece file is removed");
    }

    [Fact]
    public async Task FullDiskUnderOutput_FailsWithReason1004AndKeepsTheOldFile()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        swarm.Origin.AddFile("/eight.bin", 8L * 1024 * 1024, seed: 22);
        var outDir = Path.GetDirectoryName(swarm.Output("p"))!;
        await using var disk = await TmpfsMount.CreateAsync(outDir, "2m", () => swarm.KillUploader("p"), cts.Token);
        await File.WriteAllTextAsync(swarm.Output("p"), "old", cts.Token);

        var run = await swarm.DfgetAsync("p", swarm.Origin.Url("/eight.bin"), [], cts.Token);

        run.ExitCode.Should().Be(80, run.ToString());
        run.Reason.Should().Be(1004, run.ToString());
        (await File.ReadAllTextAsync(run.OutputPath, cts.Token)).Should().Be("old", "a failed download never replaces the output");
        Directory.GetFiles(outDir).Should().Equal([swarm.Output("p")], "no temporary file is left beside the output");
    }

    /// <summary>A small tmpfs mounted over a directory (root only, as the emulated-host tests): a disk that fills up.</summary>
    private sealed class TmpfsMount : IAsyncDisposable
    {
        private readonly string _path;
        private readonly Action _beforeUnmount;

        private TmpfsMount(string path, Action beforeUnmount)
        {
            _path = path;
            _beforeUnmount = beforeUnmount;
        }

        public static async Task<TmpfsMount> CreateAsync(string path, string size, Action beforeUnmount, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(path);
            var (exit, output) = await ProcessHost.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={size}", "tmpfs", path], cancellationToken);
            exit.Should().Be(0, "mounting a tmpfs needs root (as the emulated-host tests): " + output);
            return new TmpfsMount(path, beforeUnmount);
        }

        public async ValueTask DisposeAsync()
        {
            _beforeUnmount();
            await ProcessHost.RunAsync("umount", ["-l", _path], CancellationToken.None);
        }
    }
}
