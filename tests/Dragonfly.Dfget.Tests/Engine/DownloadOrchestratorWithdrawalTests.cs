using System.Diagnostics;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;

namespace Dragonfly.Dfget.Tests.Engine;

/// <summary>
/// A p2p download that gives its <c>.service</c> file up (cancelled, timed out, P2P failed) tells the supernode it no
/// longer serves the task and tells the uploader to forget the name, within <see cref="ServiceWithdrawal.Budget"/>.
/// </summary>
public sealed class DownloadOrchestratorWithdrawalTests() : OrchestratorTestBase(seed: 11, new FakeUploaderLauncher())
{
    private string TaskFileName => Factory.Info!.Path["/peer/file/".Length..];

    [Fact]
    public async Task DownloadAsync_CancelledWhileServingPieces_ReportsServiceDownAndWithdrawsFromTheUploader()
    {
        Peer.Delay = n => n == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(30);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cts.Token);
        var progress = new SyncProgress(p =>
        {
            if (p.Kind == DownloadProgressKind.PieceCompleted)
            {
                cancel.Cancel();
            }
        });

        var act = () => Engine().DownloadAsync(Request(), progress, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        Session.ServiceDowns.Should().ContainSingle().Which.Should().Be(Session.Current!.TaskId);
        Launcher.Abandoned.Should().ContainSingle().Which.Should().Be((15001, TaskFileName));
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_TimedOutWhileServingPieces_ReportsServiceDownAndWithdrawsFromTheUploader()
    {
        Peer.Delay = n => n == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(30);

        var result = await Engine().DownloadAsync(Request() with { NotBackSource = true, Timeout = TimeSpan.FromMilliseconds(500) }, null, Cts.Token);

        result.Success.Should().BeFalse();
        result.Message.Should().Be("download timeout(0.5s)");
        Session.ServiceDowns.Should().ContainSingle().Which.Should().Be(Session.Current!.TaskId);
        Launcher.Abandoned.Should().ContainSingle().Which.Should().Be((15001, TaskFileName));
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_P2PFailsAndGoesBackToSource_ReportsServiceDownOnceAndWithdrawsFromTheUploader()
    {
        Session.Script.Enqueue(_ => null);
        Session.Script.Enqueue(_ => new PullOutcome.Failed(500, "cdn failed"));

        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(3);
        (await File.ReadAllBytesAsync(Output)).Should().Equal(Peer.Content);
        Session.ServiceDowns.Should().ContainSingle();
        Launcher.Abandoned.Should().ContainSingle().Which.Should().Be((15001, TaskFileName));
        Launcher.Finished.Should().BeEmpty();
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_CancelledWithTheSupernodeUnreachable_GivesUpTheReportWithinTheBudget()
    {
        Session.ServiceDownHangs = true;
        Peer.Delay = n => n == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(30);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cts.Token);
        var cancelledAt = 0L;
        var progress = new SyncProgress(p =>
        {
            if (p.Kind == DownloadProgressKind.PieceCompleted)
            {
                Interlocked.CompareExchange(ref cancelledAt, Stopwatch.GetTimestamp(), 0);
                cancel.Cancel();
            }
        });

        var act = () => Engine().DownloadAsync(Request(), progress, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        Stopwatch.GetElapsedTime(Interlocked.Read(ref cancelledAt)).Should().BeLessThan(ServiceWithdrawal.Budget + TimeSpan.FromSeconds(2));
        Session.ServiceDownCalls.Should().Be(1);
        Launcher.Abandoned.Should().ContainSingle("the uploader is told even when the supernode does not answer");
        Directory.GetFiles(Home.DataDir).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_RegistrationFailsAfterTheUploaderTookTheName_TellsTheUploaderToForgetIt()
    {
        Session.RegisterResult = new RegisterOutcome.Failed(-100, "connection refused");

        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be((int)BackSourceReason.RegisterFail);
        Launcher.Abandoned.Should().ContainSingle("the running uploader registered the name on /check/").Which.Should().Be((15001, TaskFileName));
        Session.ServiceDownCalls.Should().Be(0, "no supernode knows this peer");
    }

    [Fact]
    public async Task DownloadAsync_CancelledAsACdnPeer_HasNothingToWithdraw()
    {
        Launcher.Port = null;
        Peer.Delay = n => n == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(30);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cts.Token);
        var progress = new SyncProgress(p =>
        {
            if (p.Kind == DownloadProgressKind.PieceCompleted)
            {
                cancel.Cancel();
            }
        });

        var act = () => Engine().DownloadAsync(Request(), progress, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        Session.ServiceDownCalls.Should().Be(0);
        Launcher.Abandoned.Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_Succeeds_KeepsServingWithoutServiceDown()
    {
        var result = await Engine().DownloadAsync(Request(), null, Cts.Token);

        result.Success.Should().BeTrue(result.Message);
        Session.ServiceDownCalls.Should().Be(0);
        Launcher.Abandoned.Should().BeEmpty();
        Launcher.Finished.Should().ContainSingle();
        Directory.GetFiles(Home.DataDir, "*.service").Should().ContainSingle();
    }

    private sealed class SyncProgress(Action<DownloadProgress> action) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => action(value);
    }
}
