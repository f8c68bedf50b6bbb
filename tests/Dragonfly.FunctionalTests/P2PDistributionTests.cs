using Dragonfly.FunctionalTests.Support;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>Origin, supernode and several dfget processes with separate homes, all real, on loopback.</summary>
public class P2PDistributionTests
{
    private const long FileLength = 24L * 1024 * 1024; // 6 pieces of 4 MiB

    [Fact]
    public async Task ThreePeers_SameUrl_IdenticalCopiesOriginServedOnceLaterPeersUsePeers()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/big.bin", FileLength, seed: 11);
        var url = swarm.Origin.Url("/big.bin");

        var first = await swarm.DfgetAsync("peer1", url, [], cts.Token);
        first.Succeeded.Should().BeTrue(first.ToString());

        var second = swarm.DfgetAsync("peer2", url, [], cts.Token);
        var third = swarm.DfgetAsync("peer3", url, [], cts.Token);
        var later = await Task.WhenAll(second, third);

        foreach (var run in later.Prepend(first))
        {
            run.Succeeded.Should().BeTrue(run.ToString());
            run.Reason.Should().Be(0, run.ToString());
            (await Md5Hex(run.OutputPath)).Should().Be(file.Md5(), run.Peer);
            run.FromOrigin.Should().Be(0, "no peer fell back to the origin: " + run);
        }

        // The supernode fetched the origin once (the length probe reads only headers).
        var fullGets = swarm.Origin.Requests.Count(r => r.Method == "GET" && r.BodyBytes >= FileLength);
        fullGets.Should().Be(1);
        swarm.Origin.BodyBytesServed.Should().BeLessThan((long)(FileLength * 1.5));

        // Peer 1 had only the supernode to fetch from; the later peers took pieces from peer uploaders.
        first.FromSupernode.Should().Be(FileLength, first.ToString());
        later.Sum(r => r.FromPeers).Should().BeGreaterThan(0, string.Join('\n', later.Select(r => r.ToString())));
        foreach (var run in later)
        {
            (run.FromPeers + run.FromSupernode).Should().Be(FileLength, run.ToString());
        }

        await SwarmViewAgreesWithTheClientsAsync(swarm, url, [first, .. later], cts.Token);
    }

    /// <summary>
    /// The supernode's swarm view (<c>GET /api/v1/tasks/{id}/swarm</c>, what the live page at <c>/swarm</c> draws) after
    /// every run finished: the CDN and each client hold every piece, and the bytes it says peers and the supernode served
    /// are the ones the clients say they received (its counts are of wrapped pieces, 5 bytes more per piece).
    /// </summary>
    private static async Task SwarmViewAgreesWithTheClientsAsync(Swarm swarm, Uri url, IReadOnlyList<DfgetRun> runs, CancellationToken cancellationToken)
    {
        var taskId = Dragonfly.Common.Identity.TaskIdentity.ComputeTaskId(url.ToString(), null, null);
        using var http = new HttpClient();
        var supernode = $"http://127.0.0.1:{swarm.Supernodes[0].Port}";
        var text = await http.GetStringAsync(new Uri($"{supernode}/api/v1/tasks/{taskId}/swarm"), cancellationToken);
        var view = System.Text.Json.JsonSerializer.Deserialize(text, Dragonfly.Common.Api.DragonflyJsonContext.Default.SwarmView)!;

        var pieces = view.PieceTotal!.Value;
        pieces.Should().BeGreaterThan(0, text);
        var all = Enumerable.Range(0, pieces).ToList();
        Dragonfly.Common.Pieces.PieceBitfield.TryDecode(view.CdnPieces, out var cdn).Should().BeTrue();
        cdn.Should().Equal(all, text);
        view.Peers.Should().HaveCount(runs.Count, text);
        foreach (var peer in view.Peers!)
        {
            Dragonfly.Common.Pieces.PieceBitfield.TryDecode(peer.Pieces, out var held).Should().BeTrue();
            held.Should().Equal(all, "{0} finished", peer.Cid);
            peer.Running.Should().BeEmpty();
        }

        (view.PiecesFromPeers + view.PiecesFromSupernode).Should().Be(runs.Count * pieces, text);
        view.PiecesReused.Should().Be(0);
        (view.BytesFromPeers - (5 * view.PiecesFromPeers)).Should().Be(runs.Sum(r => r.FromPeers), text);
        (view.BytesFromSupernode - (5 * view.PiecesFromSupernode)).Should().Be(runs.Sum(r => r.FromSupernode), text);

        (await http.GetStringAsync(new Uri($"{supernode}/api/v1/tasks"), cancellationToken)).Should().Contain($"\"ID\":\"{taskId}\"", "the page offers the task to pick");
        using var page = await http.GetAsync(new Uri($"{supernode}/swarm?task={taskId}"), cancellationToken);
        page.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
        (await page.Content.ReadAsStringAsync(cancellationToken)).Should().Contain("\"api/v1/tasks/\" + id + \"/swarm\"", "the page draws this view");
    }

    [Fact]
    public async Task FourFreshHomesStartingTogether_EachStartsOneUploaderOnItsOwnPort()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/together.bin", 8L * 1024 * 1024, seed: 13);
        var url = swarm.Origin.Url("/together.bin");
        string[] peers = ["a", "b", "c", "d"];

        // All four choose an uploader port in the same five-minute window, before any of their uploaders has bound one.
        var runs = await Task.WhenAll(peers.Select(p => swarm.DfgetAsync(p, url, [], cts.Token)));

        foreach (var run in runs)
        {
            run.Succeeded.Should().BeTrue(run.ToString());
            (await Md5Hex(run.OutputPath)).Should().Be(file.Md5(), run.Peer);
            var log = await File.ReadAllTextAsync(Path.Combine(swarm.Home(run.Peer), "logs", "dfclient.log"), cts.Token);
            log.Should().NotContain("Could not start an uploader", run.Peer);
            log.Should().NotContain("does not serve", "{0} registered the port its first uploader was started on", run.Peer);
        }

        var ports = await Task.WhenAll(peers.Select(p => RecordedUploaderPortAsync(swarm.Home(p), cts.Token)));
        ports.Should().OnlyHaveUniqueItems().And.NotContain(0);
    }

    [Fact]
    public async Task UploaderKilledMidTransfer_DownloaderStillFinishesFromOthers()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/kill.bin", FileLength, seed: 12);
        var url = swarm.Origin.Url("/kill.bin");

        var seeder = await swarm.DfgetAsync("seeder", url, [], cts.Token);
        seeder.Succeeded.Should().BeTrue(seeder.ToString());

        // The leecher downloads slowly (2 MB/s), so the seeder's uploader dies while it is still being used.
        var leecher = swarm.DfgetAsync("leecher", url, ["-s", "2M"], cts.Token);
        await Task.Delay(TimeSpan.FromSeconds(2), cts.Token);
        swarm.KillUploader("seeder").Should().BeGreaterThan(0, "the seeder's uploader was running");

        var run = await leecher;
        run.Succeeded.Should().BeTrue(run.ToString());
        (await Md5Hex(run.OutputPath)).Should().Be(file.Md5());
    }

    [Fact]
    public async Task SupernodeDiesMidDownload_ClientMigratesToSecondSupernode()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var swarm = await Swarm.StartAsync(2, cts.Token);
        var (file, url, taskId) = AddSlowFile(swarm, "/failover.bin", seed: 13);

        var download = swarm.DfgetAsync("peer", url, [], cts.Token);

        // Kill whichever supernode the client registered with, once it knows the task.
        var victim = await SupernodeKnowingAsync(swarm, taskId, cts.Token);
        await victim.Host!.DisposeAsync();

        var run = await download;
        run.Succeeded.Should().BeTrue(run.ToString());
        run.Reason.Should().Be(0, "the client migrated instead of going back to the source: " + run);
        (await Md5Hex(run.OutputPath)).Should().Be(file.Md5());
    }

    [Fact]
    public async Task OnlySupernodeRestartedMidDownload_ClientRegistersAgainAndFinishesThroughP2P()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);

        // --notbs: only re-registering with the restarted supernode can finish this download. The supernode is killed once
        // the client has a piece on disk: registered and pulling, not still waiting for its registration answer.
        var (file, _, download, supernode) = await StartLoneDownloadAsync(swarm, "/restart.bin", seed: 17, cts.Token);
        await supernode.Host!.DisposeAsync();
        await Task.Delay(TimeSpan.FromSeconds(1), cts.Token);
        if (download.IsCompleted)
        {
            Assert.Fail("the client should wait for a supernode instead of failing at once: " + await download);
        }

        await swarm.StartSupernodeAsync(cts.Token, supernode.Home, supernode.Port, supernode.DownloadPort);

        await FinishedThroughP2PAsync(await download, file, "the client registered again with the restarted supernode");
    }

    [Fact]
    public async Task SupernodeDropsTheTaskMidDownload_ClientRegistersWithItAgainAndFinishesThroughP2P()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);

        // --notbs and one supernode: the original would have nowhere to migrate to and fail. The supernode stays up but
        // forgets the task with its files (as it does when its copy turns out bad), so the next pull answers 502.
        var (file, taskId, download, supernode) = await StartLoneDownloadAsync(swarm, "/dropped.bin", seed: 23, cts.Token);
        using var http = new HttpClient();
        while (await SupernodeCounterAsync(http, supernode, "dragonfly_supernode_pieces_downloaded_total", cts.Token) < 1)
        {
            // Wait until the supernode counted a piece as served, so the recreated task meets a piece the client has.
            await Task.Delay(20, cts.Token);
        }

        var deleted = await http.DeleteAsync(new Uri($"http://127.0.0.1:{supernode.Port}/api/v1/tasks/{taskId}?full=true"), cts.Token);
        deleted.StatusCode.Should().Be(System.Net.HttpStatusCode.NoContent);

        await FinishedThroughP2PAsync(await download, file, "the client registered again with the supernode that forgot it");
        var log = await File.ReadAllTextAsync(Path.Combine(swarm.Home("peer"), "logs", "dfclient.log"), cts.Token);
        log.Should().Contain("The supernode no longer knows this download; registering with it again (1 of 2)");

        // The recreated task handed out again the pieces the client had: they count as reused, not as served twice.
        // 16 MiB in wrapped pieces of 4 MiB (4 header bytes and 1 trailer byte each): 5 pieces.
        const int Pieces = (int)((16L * 1024 * 1024 + (4 * 1024 * 1024 - 5) - 1) / (4 * 1024 * 1024 - 5));
        (await SupernodeCounterAsync(http, supernode, "dragonfly_supernode_pieces_reused_total", cts.Token)).Should().BeGreaterThanOrEqualTo(1);
        (await SupernodeCounterAsync(http, supernode, "dragonfly_supernode_pieces_downloaded_total", cts.Token))
            .Should().BeLessThanOrEqualTo(Pieces, "each of the file's pieces was transferred once, before or after the rejoin");
        swarm.Origin.Requests.Count(r => r.Method == "GET" && r.Path == "/dropped.bin" && r.Range.Length == 0)
            .Should().Be(2, "the supernode fetched the file once more for the recreated task (the other GETs are its one-byte probes): " + string.Join("; ", swarm.Origin.Requests));
    }

    [Fact]
    public async Task SupernodeDropsTheTaskUnderASwarm_EveryPeerRegistersAgainAndTheOriginServesTheFileOnceMore()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var (file, url, taskId) = AddSlowFile(swarm, "/crowd.bin", seed: 29);

        // Three peers mid-download when the supernode forgets the task: they register again at about the same moment,
        // which must make one new task with one CDN run (the origin's second full GET), not three trips to the origin.
        string[] peers = ["a", "b", "c"];
        var downloads = peers.Select(peer => swarm.DfgetAsync(peer, url, ["--notbs"], cts.Token)).ToArray();
        var supernode = await SupernodeKnowingAsync(swarm, taskId, cts.Token);
        for (var i = 0; i < peers.Length; i++)
        {
            await FirstPieceOnDiskAsync(swarm.Home(peers[i]), downloads[i], cts.Token);
        }

        using (var http = new HttpClient())
        {
            (await http.DeleteAsync(new Uri($"http://127.0.0.1:{supernode.Port}/api/v1/tasks/{taskId}?full=true"), cts.Token))
                .StatusCode.Should().Be(System.Net.HttpStatusCode.NoContent);
        }

        foreach (var run in await Task.WhenAll(downloads))
        {
            await FinishedThroughP2PAsync(run, file, "every peer registered again with the supernode that forgot the task");
        }

        swarm.Origin.Requests.Count(r => r.Method == "GET" && r.Path == "/crowd.bin" && r.Range.Length == 0)
            .Should().Be(2, "one fetch for the first task and one for the task the peers recreated: " + string.Join("; ", swarm.Origin.Requests));
    }

    /// <summary>
    /// Starts peer "peer" on a slow file with <c>--notbs</c> and waits until its supernode knows the task and a piece is on
    /// the peer's disk.
    /// </summary>
    private static async Task<(OriginFile File, Dragonfly.Common.Ids.TaskId TaskId, Task<DfgetRun> Download, SupernodeProcess Supernode)> StartLoneDownloadAsync(
        Swarm swarm, string path, int seed, CancellationToken cancellationToken)
    {
        var (file, url, taskId) = AddSlowFile(swarm, path, seed);
        var download = swarm.DfgetAsync("peer", url, ["--notbs"], cancellationToken);
        var supernode = await SupernodeKnowingAsync(swarm, taskId, cancellationToken);
        await FirstPieceOnDiskAsync(swarm.Home("peer"), download, cancellationToken);
        return (file, taskId, download, supernode);
    }

    private static async Task FinishedThroughP2PAsync(DfgetRun run, OriginFile file, string because)
    {
        run.Succeeded.Should().BeTrue(run.ToString());
        run.Reason.Should().Be(0, because + ": " + run);
        run.FromOrigin.Should().Be(0, run.ToString());
        (await Md5Hex(run.OutputPath)).Should().Be(file.Md5());
    }

    /// <summary>A 16 MiB file the origin serves at ~6 MB/s, so a supernode killed once it knows the task dies with the CDN half done.</summary>
    private static (OriginFile File, Uri Url, Dragonfly.Common.Ids.TaskId TaskId) AddSlowFile(Swarm swarm, string path, int seed)
    {
        var file = swarm.Origin.AddFile(path, 16L * 1024 * 1024, seed);
        file.ChunkDelay = TimeSpan.FromMilliseconds(10);
        var url = swarm.Origin.Url(path);
        return (file, url, Dragonfly.Common.Identity.TaskIdentity.ComputeTaskId(url.ToString(), null, null));
    }

    /// <summary>Waits until the peer's piece file in its work home holds data (or the download ended, which the caller checks).</summary>
    private static async Task FirstPieceOnDiskAsync(string home, Task download, CancellationToken cancellationToken)
    {
        var data = Path.Combine(home, "data");
        while (!download.IsCompleted
               && !(Directory.Exists(data) && Directory.EnumerateFiles(data, "*.service").Any(f => new FileInfo(f).Length > 0)))
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>The sum over all label sets of a counter on the supernode's <c>/metrics</c> (0 when it has no sample yet).</summary>
    private static async Task<double> SupernodeCounterAsync(HttpClient http, SupernodeProcess supernode, string name, CancellationToken cancellationToken)
    {
        var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{supernode.Port}/metrics"), cancellationToken);
        return text.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The supernode the client registered with: the first that knows the task.</summary>
    private static async Task<SupernodeProcess> SupernodeKnowingAsync(Swarm swarm, Dragonfly.Common.Ids.TaskId taskId, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        while (true)
        {
            foreach (var s in swarm.Supernodes)
            {
                var response = await http.GetAsync(new Uri($"http://127.0.0.1:{s.Port}/api/v1/tasks/{taskId}"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return s;
                }
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>The uploader port a work home's <c>meta/host.meta</c> records.</summary>
    private static async Task<int> RecordedUploaderPortAsync(string home, CancellationToken cancellationToken)
    {
        using var meta = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(home, "meta", "host.meta"), cancellationToken));
        return meta.RootElement.GetProperty("servicePort").GetInt32();
    }

    internal static async Task<string> Md5Hex(string path) =>
        await Dragonfly.Common.Hashing.Md5Hex.OfFileAsync(path, CancellationToken.None);
}
