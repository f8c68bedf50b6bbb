using Dragonfly.Common.Pieces;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Tests.Downloading;

namespace Dragonfly.Dfget.Tests.Engine;

public sealed class DownloadOrchestratorTests() : OrchestratorTestBase(seed: 3, new FakeUploaderLauncher())
{
    [Fact]
    public async Task DownloadAsync_P2p_WritesOutputAsHardLinkOfServiceFile()
    {
        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.ExitCode.Should().Be(0);
        result.BackSourceReason.Should().Be(0);
        result.Length.Should().Be(Peer.Content.Length);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
        var service = Directory.GetFiles(Home.DataDir, "*.service").Should().ContainSingle().Subject;
        Path.GetFileName(service).Should().StartWith("file.bin-").And.EndWith(".service");
        Factory.Info!.Path.Should().Be("/peer/file/" + Path.GetFileNameWithoutExtension(service));
        Factory.Info.Port.Should().Be(15001);
        Factory.Info.Pattern.Should().Be("p2p");

        // Hard link: a write through the .service file is visible at the output.
        using (var handle = File.OpenHandle(service, FileMode.Open, FileAccess.Write))
        {
            RandomAccess.Write(handle, new byte[] { (byte)~Peer.Content[0] }, 0);
        }

        (await File.ReadAllBytesAsync(Output))[0].Should().Be((byte)~Peer.Content[0]);
        Launcher.Finished.Should().ContainSingle().Which.TaskId.Should().Be(Session.Current!.TaskId);
        Session.Metrics.Should().ContainSingle().Which.Success.Should().BeTrue();
        result.Bytes.FromPeers.Should().Be(Peer.Content.Length);
        result.Bytes.FromSource.Should().Be(0);
        result.Bytes.PiecesPerPeer.Should().ContainKey($"127.0.0.1:{Peer.Port}").WhoseValue.Should().Be(4);
        Directory.GetFiles(Dir.Combine("out")).Should().ContainSingle();
    }

    [Fact]
    public async Task DownloadAsync_UploaderUnavailable_RegistersAsCdnPeerWithPort0()
    {
        Launcher.Port = null;

        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        Factory.Info!.Port.Should().Be(0);
        Factory.Info.Pattern.Should().Be("cdn");
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
        Launcher.Finished.Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_RegisterFailsWithNotBs_FailsWithReason1001AndExit80()
    {
        Session.RegisterResult = new RegisterOutcome.Failed(500, "source 404");

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true }, null, Cts.Token);

        result.Success.Should().BeFalse();
        result.BackSourceReason.Should().Be(1001);
        result.ErrorCode.Should().Be(DfgetErrorCode.Download);
        result.ExitCode.Should().Be(80);
        File.Exists(Output).Should().BeFalse();
        Origin.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task DownloadAsync_RegisterFails_BacksToSourceWithReason1()
    {
        Session.RegisterResult = new RegisterOutcome.Failed(-100, "connection refused");

        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(1);
        result.ExitCode.Should().Be(0);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
        result.Bytes.FromSource.Should().Be(Peer.Content.Length);
        Directory.GetFiles(Dir.Combine("out")).Should().ContainSingle();
    }

    [Fact]
    public async Task DownloadAsync_RegisterFailsAndSource404_FailsWithReason1AndNoOutput()
    {
        Session.RegisterResult = new RegisterOutcome.Failed(500, "source 404");
        Origin.File("/file.bin").StatusOverride = 404;

        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeFalse();
        result.BackSourceReason.Should().Be(1);
        result.ExitCode.Should().Be(80);
        result.Message.Should().Contain("404");
        Directory.GetFiles(Dir.Combine("out")).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_CdnFailedWithNotBs_FailsWithReason1003()
    {
        Session.Script.Enqueue(_ => new PullOutcome.Failed(500, "cdn failed"));

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true }, null, Cts.Token);

        result.BackSourceReason.Should().Be(1003);
        result.ExitCode.Should().Be(80);
        File.Exists(Output).Should().BeFalse();
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
        Session.ServiceDownCalls.Should().Be(1);
        Launcher.Abandoned.Should().ContainSingle("the uploader forgets the name of the deleted file");
        Session.Metrics.Should().ContainSingle().Which.Success.Should().BeFalse();
    }

    [Theory]
    [InlineData(DownloadPattern.P2p)]
    [InlineData(DownloadPattern.Source)]
    public async Task DownloadAsync_OutputDirectoryNotWritable_FailsAtPrepareBeforeAnyDownload(DownloadPattern pattern)
    {
        // /proc exists and takes no new files, even for root (which file modes would not stop).
        var result = await Engine().DownloadAsync(Request() with { Output = "/proc/dfget-test-output.bin", Pattern = pattern }, null, Cts.Token);

        result.Success.Should().BeFalse();
        result.ErrorCode.Should().Be(DfgetErrorCode.Prepare);
        result.ExitCode.Should().Be(77);
        result.Message.Should().StartWith("prepare target:");
        Session.RegisterCalls.Should().Be(0);
        Origin.RequestCount.Should().Be(0);
        Peer.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_PatternSource_DownloadsFromOriginWithReason100WithoutSupernode()
    {
        var result = await Engine().DownloadAsync(Request() with { Pattern = DownloadPattern.Source }, null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(100);
        Factory.Created.Should().Be(0);
        Launcher.Launches.Should().BeEmpty();
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
    }

    [Fact]
    public async Task DownloadAsync_EmptyNodeList_BacksToSourceWithReason8()
    {
        var result = await Engine().DownloadAsync(Request() with { Nodes = null }, null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(8);
        Factory.Created.Should().Be(0);
    }

    [Fact]
    public async Task DownloadAsync_TimeoutWithNotBs_FailsWithReason1000AndTimeoutMessage()
    {
        Peer.Delay = _ => TimeSpan.FromSeconds(5);

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true, Timeout = TimeSpan.FromMilliseconds(200) }, null, Cts.Token);

        result.Success.Should().BeFalse();
        result.BackSourceReason.Should().Be(1000);
        result.Message.Should().Be("download timeout(0.2s)");
        result.ExitCode.Should().Be(80);
        File.Exists(Output).Should().BeFalse();
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
        Directory.GetFiles(Dir.Combine("out")).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_SupernodeMd5DiffersWithNotBs_FailsWithReason1002AndKeepsOldOutput()
    {
        Directory.CreateDirectory(Dir.Combine("out"));
        await File.WriteAllTextAsync(Output, "old");
        Session.Md5 = new string('0', 32);

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true }, null, Cts.Token);

        result.BackSourceReason.Should().Be(1002);
        result.Message.Should().Contain("md5");
        (await File.ReadAllTextAsync(Output)).Should().Be("old");
        Directory.GetFiles(Dir.Combine("out")).Should().ContainSingle();
    }

    [Fact]
    public async Task DownloadAsync_SupernodeMd5Differs_BacksToSourceWithReason2()
    {
        Session.Md5 = new string('0', 32);

        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(2);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DownloadAsync_SupernodeFinishesBeforeAnyPieceWithoutAnMd5_AFileOfHolesNeverBecomesTheOutput(bool notBackSource)
    {
        // Found by the fuzz suite (HostileSupernodeTests): a 600 answered to the first pull, without the file's md5, made a
        // file of zeros the download's successful result.
        Session.Md5 = null;
        Session.Script.Enqueue(_ => new PullOutcome.Finished(null, PieceLayout.WrappedLength(Peer.Content.Length, PieceSize)));

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = notBackSource }, null, Cts.Token);

        if (notBackSource)
        {
            result.Success.Should().BeFalse();
            result.BackSourceReason.Should().Be(1003);
            result.Message.Should().Contain("no piece wrote byte 0");
            File.Exists(Output).Should().BeFalse();
        }
        else
        {
            result.Success.Should().BeTrue(result.Message);
            result.BackSourceReason.Should().Be(3);
            (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DownloadAsync_NeitherPieceMd5sNorAFileMd5_ACorruptedPeerPieceNeverBecomesTheOutput(bool notBackSource)
    {
        // Found by the fuzz suite (HostileSupernodeTests): a supernode dropping every md5 let a peer's bytes through unchecked.
        Session.Pieces = [.. Session.Pieces.Select(p => p with { Md5 = null })];
        Session.Md5 = null;
        Peer.Behaviour = (pieceNum, _) => pieceNum == 1 ? PieceBehaviour.Corrupt : PieceBehaviour.Good;

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = notBackSource }, null, Cts.Token);

        if (notBackSource)
        {
            result.Success.Should().BeFalse();
            result.BackSourceReason.Should().Be(1003);
            result.Message.Should().Contain("without an md5");
            File.Exists(Output).Should().BeFalse();
        }
        else
        {
            result.Success.Should().BeTrue(result.Message);
            result.BackSourceReason.Should().Be(3, "nothing vouched for the pieces, so the file comes from the origin");
            (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DownloadAsync_FinishGivesTheSourceLength_AsASourcePatternSupernodeDoes(bool callerVerifies)
    {
        Session.FinishedFileLength = Peer.Content.Length;

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true, CallerVerifiesContent = callerVerifies }, null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content, "the file is neither cut by 5 bytes a piece nor failed");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DownloadAsync_FinishLengthFitsNeitherWay_FailsP2PAndBacksToSourceWithReason3(bool callerVerifies)
    {
        Session.FinishedFileLength = Peer.Content.Length - 7;

        var result = await Engine().DownloadAsync(Request() with { CallerVerifiesContent = callerVerifies }, null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(3);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
    }

    [Theory]
    [InlineData(100L, -1L, 100L)]
    [InlineData(100L, 105L, 100L)]
    [InlineData(100L, 100L, 100L)]
    [InlineData(100L, 99L, null)]
    [InlineData(100L, 110L, null)]
    [InlineData(0L, 5L, 0L)]
    [InlineData(0L, 0L, 0L)]
    [InlineData(-1L, 105L, 100L)]
    [InlineData(-1L, -1L, null)]
    [InlineData(-1L, 3L, null)]
    public void FinishedLength_TrustsTheRegisteredLengthAndChecksTheFinishAgainstIt(long registered, long finished, long? expected)
    {
        var registration = new SupernodeRegistration(new Dragonfly.Common.Nodes.SupernodeAddress("127.0.0.1", 8002, 1), SupernodeApiKind.V1, new string('a', 64), registered, 4 * 1024 * 1024, false, null);

        DownloadOrchestrator.FinishedLength(registration, finished).Should().Be(expected);
    }

    [Fact]
    public void EffectiveTimeout_BeyondWhatATimerTakes_IsClampedNotAnException()
    {
        var huge = Request() with { Timeout = TimeSpan.FromHours(2000) };
        var derived = Request() with { MinRate = new Dragonfly.Common.Rates.Rate(1024) };

        huge.EffectiveTimeout(-1).Should().Be(TimerLimits.MaxDelay);
        derived.EffectiveTimeout(5L << 40).Should().Be(TimerLimits.MaxDelay);
        using var cts = new CancellationTokenSource(huge.EffectiveTimeout(-1));
        cts.CancelAfter(derived.EffectiveTimeout(5L << 40));
    }

    [Fact]
    public async Task DownloadAsync_TimeoutBeyondWhatATimerTakes_Downloads()
    {
        var result = await Engine().DownloadAsync(Request() with { Timeout = TimeSpan.FromHours(2000) }, null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
    }

    [Fact]
    public async Task DownloadAsync_CallerVerifiesContent_SkipsTheWholeFileMd5()
    {
        // A supernode md5 that cannot match: only a skipped whole-file check lets this succeed through P2P.
        Session.Md5 = new string('0', 32);

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true, CallerVerifiesContent = true }, null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(0);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
    }

    [Fact]
    public async Task DownloadAsync_CallerVerifiesContentButUserMd5Given_StillChecksIt()
    {
        var result = await Engine().DownloadAsync(
            Request() with { NotBackSource = true, CallerVerifiesContent = true, Md5 = new string('0', 32) }, null, Cts.Token);

        result.Success.Should().BeFalse();
        result.Message.Should().Contain("md5");
        File.Exists(Output).Should().BeFalse();
    }

    [Fact]
    public async Task DownloadAsync_ReportsRegisteredAndEveryPiece()
    {
        var reports = new System.Collections.Concurrent.ConcurrentQueue<DownloadProgress>();

        await Engine().DownloadAsync(Request(), new SyncProgress(reports.Enqueue), Cts.Token);

        reports.First().Kind.Should().Be(DownloadProgressKind.Registered);
        reports.First().TotalLength.Should().Be(Peer.Content.Length);
        reports.First().Node.Should().Be("127.0.0.1:8002");
        reports.First().LocalIp.Should().Be("127.0.0.1");
        reports.First().Sign.Should().MatchRegex(@"^\d+-\d+\.\d{3}$");
        reports.Count(r => r.Kind == DownloadProgressKind.PieceCompleted).Should().Be(4);
    }

    [Fact]
    public async Task DownloadAsync_CallerCancels_ThrowsAndLeavesNoFiles()
    {
        Peer.Delay = _ => TimeSpan.FromSeconds(10);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cts.Token);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));

        var act = () => Engine().DownloadAsync(Request(), null, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        File.Exists(Output).Should().BeFalse();
        Directory.GetFiles(Dir.Combine("out")).Should().BeEmpty();
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
    }

    [Theory]
    [InlineData("ftp://host/file")]
    public void Validate_NonHttpUrl_Throws(string url)
    {
        var act = () => Request() with { Url = new Uri(url) };
        act().Invoking(r => r.Validate()).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Validate_BadHeaderOrMd5_Throws()
    {
        Request().Invoking(r => (r with { Headers = ["novalue"] }).Validate()).Should().Throw<ArgumentException>();
        Request().Invoking(r => (r with { Md5 = "xyz" }).Validate()).Should().Throw<ArgumentException>();
        Request().Invoking(r => (r with { Output = Dir.Path }).Validate()).Should().Throw<ArgumentException>();
    }

    private sealed class SyncProgress(Action<DownloadProgress> action) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => action(value);
    }
}
