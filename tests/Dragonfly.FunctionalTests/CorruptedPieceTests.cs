using Dragonfly.FunctionalTests.Support;

namespace Dragonfly.FunctionalTests;

/// <summary>
/// Corrupted pieces with real processes. A supernode whose cached copy rotted on disk after it was verified: the client
/// that receives the bad piece refuses it and reports it; the supernode finds its copy wrong and drops the task with its
/// files; the client registers with it again, and the supernode fetches the file again, so that client and the next
/// finish without taking a byte from the origin themselves. A peer whose served copy rotted: the next peer
/// refuses its piece and takes it from another holder.
/// </summary>
public sealed class CorruptedPieceTests
{
    private const long FileLength = (10L * 1024 * 1024) + 123;

    [Fact]
    public async Task CdnCopyCorruptedOnDisk_ClientRefusesTheBadPiece_AndTheSupernodeHealsItsCache()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/rot.bin", FileLength, seed: 21);
        var url = swarm.Origin.Url("/rot.bin");

        // `-p cdn`: pieces come only from the supernode, so the one bad copy is the one every client meets.
        var first = await swarm.DfgetAsync("first", url, ["-p", "cdn"], cts.Token);
        first.Succeeded.Should().BeTrue(first.ToString());
        first.FromSupernode.Should().Be(FileLength);
        var originGetsBefore = swarm.Origin.Requests.Count(r => r.Method == "GET");

        // Bit rot in the second piece of the supernode's cached copy, after its md5s were recorded.
        var cached = CachedCopy(swarm.Supernodes[0].Home);
        await using (var stream = new FileStream(cached, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = (4L * 1024 * 1024) + 1000;
            await stream.WriteAsync(new byte[64].Select(_ => (byte)0xA5).ToArray(), cts.Token);
        }

        var second = await swarm.DfgetAsync("second", url, ["-p", "cdn"], cts.Token);
        second.Succeeded.Should().BeTrue(second.ToString());
        second.FromOrigin.Should().Be(0, "the client registered again and took the piece from the supernode's new copy: " + second);
        second.Reason.Should().Be(0, second.ToString());
        (await P2PDistributionTests.Md5Hex(second.OutputPath)).Should().Be(file.Md5(), "the bad piece never reaches the output");
        var log = await File.ReadAllTextAsync(Path.Combine(swarm.Home("second"), "logs", "dfclient.log"), cts.Token);
        log.Should().MatchRegex(@"Piece 1 from \S+ failed: piece 1: md5 [0-9a-f]{32} != [0-9a-f]{32}", "the client refused the rotten piece and says why: " + second);
        var supernodeLog = await File.ReadAllTextAsync(Path.Combine(swarm.Supernodes[0].Home, "logs", "app.log"), cts.Token);
        supernodeLog.Should().Contain("CDN piece 1 of task", "the client's report made the supernode check its copy").And.Contain("collecting the task with its files");
        log.Should().Contain("The supernode no longer knows this download; registering with it again");

        var third = await swarm.DfgetAsync("third", url, ["-p", "cdn", "--notbs"], cts.Token);
        third.Succeeded.Should().BeTrue(third.ToString());
        third.FromOrigin.Should().Be(0, "the supernode serves a good copy again");
        third.FromSupernode.Should().Be(FileLength);
        (await P2PDistributionTests.Md5Hex(third.OutputPath)).Should().Be(file.Md5());
        swarm.Origin.Requests.Count(r => r.Method == "GET").Should().BeGreaterThan(originGetsBefore, "the supernode fetched the file again instead of serving the rotten copy");
    }

    [Fact]
    public async Task PeerCopyCorruptedOnDisk_NextPeerRefusesItsPieceAndFinishesFromTheSwarmWithoutTheOrigin()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var swarm = await Swarm.StartAsync(1, cts.Token);
        var file = swarm.Origin.AddFile("/peer-rot.bin", FileLength, seed: 22);
        var url = swarm.Origin.Url("/peer-rot.bin");
        var seeder = await swarm.DfgetAsync("seeder", url, [], cts.Token);
        seeder.Succeeded.Should().BeTrue(seeder.ToString());

        // Bit rot in the second piece of the file the seeder's uploader serves from.
        var served = Directory.GetFiles(Path.Combine(swarm.Home("seeder"), "data"), "*.service").Should().ContainSingle().Subject;
        var pristine = await File.ReadAllBytesAsync(served, cts.Token);
        File.Delete(served); // the output may share its inode; rot only the uploader's copy
        pristine.AsSpan((4 * 1024 * 1024) + 1000, 64).Fill(0xA5);
        await File.WriteAllBytesAsync(served, pristine, cts.Token);

        var leecher = await swarm.DfgetAsync("leecher", url, ["--notbs"], cts.Token);

        leecher.Succeeded.Should().BeTrue(leecher.ToString());
        leecher.FromOrigin.Should().Be(0, "the bad piece is fetched again from another holder, not from the origin");
        (await P2PDistributionTests.Md5Hex(leecher.OutputPath)).Should().Be(file.Md5(), "the rotten piece never reaches the output");
        var log = await File.ReadAllTextAsync(Path.Combine(swarm.Home("leecher"), "logs", "dfclient.log"), cts.Token);
        log.Should().MatchRegex(@"Piece 1 from \S+ failed: piece 1: md5 [0-9a-f]{32} != [0-9a-f]{32}", "the leecher met the rotten piece and refused it: " + leecher);
    }

    /// <summary>The supernode's cached file of the one task it has (<c>repo/download/&lt;3&gt;/&lt;taskId&gt;</c>).</summary>
    private static string CachedCopy(string supernodeHome) =>
        Directory.GetFiles(Path.Combine(supernodeHome, "repo", "download"), "*", SearchOption.AllDirectories)
            .Should().ContainSingle(f => Path.GetExtension(f).Length == 0, "the cache holds one file beside its .meta and .md5").Subject;
}
