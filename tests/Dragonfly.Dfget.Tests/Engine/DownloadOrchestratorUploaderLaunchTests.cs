using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;

namespace Dragonfly.Dfget.Tests.Engine;

/// <summary>
/// A download whose uploader is still starting: it registers with the uploader's port at once, fetches pieces, and holds
/// every piece-success report back until the uploader serves; if that uploader does not serve, it starts one the original,
/// waiting way and registers again on its port, or as a cdn peer when none starts.
/// </summary>
public sealed class DownloadOrchestratorUploaderLaunchTests()
    : OrchestratorTestBase(seed: 4, new FakeUploaderLauncher { Serving = new(TaskCreationOptions.RunContinuationsAsynchronously) })
{
    private int _completedPieces;

    [Fact]
    public async Task DownloadAsync_UploaderStarting_RegistersItsPortAndReportsNoSuccessUntilItServes()
    {
        var download = StartDownload();
        await AllPiecesFetchedAsync();

        Factory.Info!.Port.Should().Be(15001);
        Factory.Info.Pattern.Should().Be("p2p");
        Session.SuccessReports.Should().BeEmpty("the supernode would send other peers to an uploader that is not up yet");
        Session.PullReports.Should().ContainSingle().Which.Should().Be(PullReport.Start);
        download.IsCompleted.Should().BeFalse();

        Launcher.Serving!.SetResult(true);
        var result = await download;

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(0);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
        Session.SuccessReports.Select(p => p.PieceNum).Should().BeEquivalentTo([0, 1, 2, 3]);
        Session.ReRegistrations.Should().BeEmpty();
        Directory.GetFiles(Home.DataDir, "*.service").Should().ContainSingle("the uploader serves the finished file");
        Launcher.Finished.Should().ContainSingle().Which.Port.Should().Be(15001);
        Peer.Attempts.Values.Should().OnlyContain(n => n == 1);
    }

    [Fact]
    public async Task DownloadAsync_UploaderFailsAfterRegisteringButStartsTheWaitingWay_ReRegistersOnItsPort()
    {
        Launcher.WaitedPort = 15002;
        var result = await DownloadWhileTheUploaderFailsAsync();

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(0);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
        Launcher.WaitedLaunches.Should().ContainSingle().Which.Port.Should().Be(0, "the uploader picks its port, as before");
        var (info, pullsBefore, successesBefore) = Session.ReRegistrations.Should().ContainSingle().Subject;
        info.Port.Should().Be(15002);
        info.Pattern.Should().Be("p2p");
        pullsBefore.Should().Be(1);
        successesBefore.Should().Be(0);
        Session.SuccessReports.Select(p => p.PieceNum).Should().BeEquivalentTo([0, 1, 2, 3]);
        Directory.GetFiles(Home.DataDir, "*.service").Should().ContainSingle("the replacement uploader serves the finished file");
        Launcher.Finished.Should().ContainSingle().Which.Port.Should().Be(15002);
        Peer.Attempts.Values.Should().OnlyContain(n => n == 1, "pieces already on disk are not fetched again");
    }

    [Fact]
    public async Task DownloadAsync_UploaderFailsToStartAfterRegistering_ReRegistersAsCdnPeerBeforeAnySuccessReport()
    {
        var result = await DownloadWhileTheUploaderFailsAsync();

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(0);
        result.Bytes.FromSource.Should().Be(0);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
        var (info, pullsBefore, successesBefore) = Session.ReRegistrations.Should().ContainSingle().Subject;
        info.Port.Should().Be(0);
        info.Pattern.Should().Be("cdn");
        info.Cid.Should().Be(Factory.Info!.Cid);
        pullsBefore.Should().Be(1, "only the STARTED pull went out under the p2p registration");
        successesBefore.Should().Be(0);
        Session.PullReports.Skip(1).First().Should().Be(PullReport.Start, "the cdn registration starts a new pull sequence");
        Session.SuccessReports.Select(p => p.PieceNum).Should().BeEquivalentTo([0, 1, 2, 3], "the pieces on disk are reported under the cdn registration");
        Peer.Attempts.Values.Should().OnlyContain(n => n == 1, "pieces already on disk are not fetched again");
        Directory.GetFiles(Home.DataDir).Should().BeEmpty("no uploader serves the file");
        Launcher.Finished.Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_UploaderFailsAndCdnReRegistrationFails_BacksToSourceWithReason3()
    {
        Session.ReRegisterResult = new RegisterOutcome.Failed(-100, "connection refused");
        var result = await DownloadWhileTheUploaderFailsAsync();

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be((int)BackSourceReason.DownloadError);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
        Session.SuccessReports.Should().BeEmpty();
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
        Launcher.Finished.Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_UploaderKnownToHaveFailedBeforeRegistering_RegistersAsCdnPeer()
    {
        Launcher.Serving!.SetResult(false);

        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        Launcher.WaitedLaunches.Should().BeEmpty("a process that could not be spawned is not tried again");
        Factory.Info!.Port.Should().Be(0);
        Factory.Info.Pattern.Should().Be("cdn");
        Session.ReRegistrations.Should().BeEmpty();
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_UploaderServesBeforeTheFirstPiece_DownloadsWithoutReRegistering()
    {
        Launcher.Serving!.SetResult(true);

        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        Factory.Info!.Pattern.Should().Be("p2p");
        Session.ReRegistrations.Should().BeEmpty();
        Launcher.Finished.Should().ContainSingle();
    }

    [Fact]
    public async Task DownloadAsync_P2PFailsWhileTheUploaderIsStarting_StopsTheLaunchBeforeItRegistersTheName()
    {
        // As the real launch: stopped before its /check/, it never serves (and never registers the name).
        Launcher.OnLaunchCancelled = serving => serving.TrySetCanceled();
        Session.Script.Enqueue(_ => new PullOutcome.Failed(500, "cdn failed"));

        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be((int)BackSourceReason.DownloadError);
        Launcher.LaunchToken.IsCancellationRequested.Should().BeTrue("going back to the origin stops the launch, so no /check/ goes out after it");
        Launcher.Abandoned.Should().BeEmpty("the uploader never heard of the name");
        Session.ServiceDownCalls.Should().Be(0, "no piece success went out, so no supernode sends peers here");
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_P2PFailsWhileTheStartingUploaderChecksTheName_TellsItToForgetTheNameAfterTheCheck()
    {
        // A /check/ already sent is finished: the uploader registers the name just after the download gave it up.
        Launcher.OnLaunchCancelled = serving => _ = Task.Run(() => serving.TrySetResult(true));
        Session.Script.Enqueue(_ => new PullOutcome.Failed(500, "cdn failed"));

        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be((int)BackSourceReason.DownloadError);
        Launcher.Abandoned.Should().ContainSingle().Which.Should().Be((15001, Factory.Info!.Path["/peer/file/".Length..]));
        Launcher.AbandonedAfterServing.Should().Equal([true], "the abandon follows the registration it undoes");
        Session.ServiceDownCalls.Should().Be(0);
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_CancelledWhileTheStartingUploaderChecksTheName_TellsItToForgetTheNameAfterTheCheck()
    {
        Launcher.OnLaunchCancelled = serving => _ = Task.Run(() => serving.TrySetResult(true));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cts.Token);
        var progress = new CancelOnFirstPiece(cancel);

        var act = () => Engine().DownloadAsync(Request(), progress, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        Launcher.Abandoned.Should().ContainSingle().Which.Port.Should().Be(15001);
        Launcher.AbandonedAfterServing.Should().Equal([true]);
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
    }

    private Task<DownloadResult> StartDownload() =>
        Task.Run(() => Engine().DownloadAsync(Request(), new CountingProgress(this), Cts.Token));

    /// <summary>Runs a download whose uploader reports that it will not serve once the first four pieces are on disk.</summary>
    private async Task<DownloadResult> DownloadWhileTheUploaderFailsAsync()
    {
        var download = StartDownload();
        await AllPiecesFetchedAsync();
        Launcher.Serving!.SetResult(false);
        return await download;
    }

    /// <summary>Waits until the four pieces the first pull hands out are on disk (the loop is then at its first success report).</summary>
    private async Task AllPiecesFetchedAsync()
    {
        while (Volatile.Read(ref _completedPieces) < 4)
        {
            await Task.Delay(10, Cts.Token);
        }
    }

    private sealed class CancelOnFirstPiece(CancellationTokenSource cancel) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value)
        {
            if (value.Kind == DownloadProgressKind.PieceCompleted)
            {
                cancel.Cancel();
            }
        }
    }

    private sealed class CountingProgress(DownloadOrchestratorUploaderLaunchTests owner) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value)
        {
            if (value.Kind == DownloadProgressKind.PieceCompleted)
            {
                Interlocked.Increment(ref owner._completedPieces);
            }
        }
    }
}
