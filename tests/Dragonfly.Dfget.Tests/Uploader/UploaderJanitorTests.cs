using System.Net;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfget.Tests.Uploader;

public sealed class UploaderJanitorTests
{
    private static readonly TimeSpan Scan = TimeSpan.FromSeconds(15);
    private static readonly string TaskId = new('c', 64);

    [Fact]
    public async Task Expire_FinishedTaskIdleForExpireTime_DeletesFileAndReportsServiceDown()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var supernode = await RecordingSupernode.StartAsync();
        var clock = new UploaderManualClock();
        await using var host = await UploaderTestHost.StartAsync(time: clock);
        await host.AddTaskAsync("done", 100);
        await FinishAsync(host, "done", supernode.Address);
        var file = Path.Combine(host.DataDir, "done.service");

        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(2), Scan);
        File.Exists(file).Should().BeTrue("the expire time (3 min) has not passed");
        await KeepAliveAsync(host);

        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(1) + Scan, Scan);
        await WaitUntilAsync(() => !supernode.ServiceDowns.IsEmpty, timeout.Token);

        File.Exists(file).Should().BeFalse();
        host.Server.Tasks.TryGet("done", out _).Should().BeFalse();
        supernode.ServiceDowns.Should().ContainSingle().Which.Should().Be((TaskId, "127.0.0.1-9-1.000"));
        host.Server.Completion.IsCompleted.Should().BeFalse();
    }

    [Fact]
    public async Task Expire_AbandonedName_Answers404UntilTheExpireTimeThenIsUnknown()
    {
        var clock = new UploaderManualClock();
        await using var host = await UploaderTestHost.StartAsync(time: clock);
        await host.AddTaskAsync("gone", 100);
        (await host.Client.GetAsync("client/abandon?taskFileName=gone")).Dispose();
        File.Delete(Path.Combine(host.DataDir, "gone.service"));

        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(2), Scan);
        using (var response = await host.GetPieceAsync("gone", "bytes=0-4194303", "0", "4194304"))
        {
            response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        }

        await KeepAliveAsync(host);
        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(1) + Scan, Scan);
        using (var response = await host.GetPieceAsync("gone", "bytes=0-4194303", "0", "4194304"))
        {
            response.StatusCode.Should().Be(HttpStatusCode.InternalServerError, "after the expire time the name is forgotten like any other");
        }
    }

    [Fact]
    public async Task Expire_AbandonedNameWhoseFileItsDownloadCouldNotDelete_DeletesTheFile()
    {
        var clock = new UploaderManualClock();
        await using var host = await UploaderTestHost.StartAsync(time: clock);
        await host.AddTaskAsync("stuck", 100);
        using (var abandon = await host.Client.GetAsync("client/abandon?taskFileName=stuck"))
        {
            abandon.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // The download's own delete failed: the file is still there, and no task tracks it any more.
        await host.Server.Janitor.ExpireAsync(CancellationToken.None);

        File.Exists(Path.Combine(host.DataDir, "stuck.service")).Should().BeFalse();
        using var response = await host.GetPieceAsync("stuck", "bytes=0-4194303", "0", "4194304");
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Shutdown_FileLeftBehindInItsOwnDataDir_IsDeleted()
    {
        var clock = new UploaderManualClock();
        await using var host = await UploaderTestHost.StartAsync(o => o with { OwnsDataDirs = true }, time: clock);
        var left = Path.Combine(host.DataDir, "crashed-1-1.000.service");
        await File.WriteAllBytesAsync(left, new byte[10]);
        File.SetLastWriteTimeUtc(left, clock.GetUtcNow().UtcDateTime - TimeSpan.FromHours(1));

        await host.Server.Janitor.ShutdownAsync(CancellationToken.None);

        File.Exists(left).Should().BeFalse("no task tracks it and nobody wrote it for longer than the alive time");
    }

    [Fact]
    public async Task Expire_ServedRecently_KeepsFile()
    {
        var clock = new UploaderManualClock();
        await using var host = await UploaderTestHost.StartAsync(time: clock);
        await host.AddTaskAsync("done", 100);
        await FinishAsync(host, "done", "127.0.0.1:1");

        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(2), Scan);
        using (var response = await host.GetPieceAsync("done", "bytes=0-4194303", "0", "4194304"))
        {
            response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        }

        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(2), Scan);

        File.Exists(Path.Combine(host.DataDir, "done.service")).Should().BeTrue("the upload at 2 min refreshed the access time");
    }

    [Fact]
    public async Task Expire_UnfinishedTaskAndForeignFiles_AreNeverDeleted()
    {
        var clock = new UploaderManualClock();
        await using var host = await UploaderTestHost.StartAsync(time: clock);
        await host.AddTaskAsync("running", 100);
        var foreign = Path.Combine(host.DataDir, "other-uploader-task.service");
        await File.WriteAllBytesAsync(foreign, new byte[10]);

        for (var i = 0; i < 4; i++)
        {
            await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(1), Scan);
            await KeepAliveAsync(host, "running");
        }

        (await host.Server.Janitor.ExpireAsync(CancellationToken.None)).Should().Be(0);
        File.Exists(Path.Combine(host.DataDir, "running.service")).Should().BeTrue();
        File.Exists(foreign).Should().BeTrue("files of tasks another uploader registered are not ours to delete (#1378)");
    }

    [Fact]
    public async Task Expire_UnfinishedTaskWhoseFileIsGone_IsForgotten()
    {
        var clock = new UploaderManualClock();
        await using var host = await UploaderTestHost.StartAsync(time: clock);
        await host.AddTaskAsync("failed", 10);
        File.Delete(Path.Combine(host.DataDir, "failed.service"));

        clock.Advance(TimeSpan.FromMinutes(3));
        await host.Server.Janitor.ExpireAsync(CancellationToken.None);

        host.Server.Tasks.TryGet("failed", out _).Should().BeFalse();
    }

    [Fact]
    public async Task Alive_NoRequestForAliveTime_ReportsDownDeletesFilesAndZeroesHostMeta()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var supernode = await RecordingSupernode.StartAsync();
        var clock = new UploaderManualClock();
        await using var host = await UploaderTestHost.StartAsync(o => o with { ExpireTime = TimeSpan.FromHours(1) }, time: clock);
        await host.AddTaskAsync("done", 100);
        await FinishAsync(host, "done", supernode.Address);
        var foreign = Path.Combine(host.DataDir, "foreign.service");
        await File.WriteAllBytesAsync(foreign, new byte[10]);

        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(4), Scan);
        host.Server.Completion.IsCompleted.Should().BeFalse();
        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(1) + Scan, Scan);
        await host.Server.Completion.WaitAsync(timeout.Token);

        supernode.ServiceDowns.Should().ContainSingle().Which.TaskId.Should().Be(TaskId);
        File.Exists(Path.Combine(host.DataDir, "done.service")).Should().BeFalse();
        File.Exists(foreign).Should().BeTrue();
        (await File.ReadAllTextAsync(host.Options.HostMetaPath!)).Should().Be("{\"servicePort\":0}");
        (await new HostMetaFile(host.Options.HostMetaPath!).ReadPortAsync(CancellationToken.None)).Should().Be(0);
        WorkHomeLock.TryAcquire(host.Options.LockPath!).Should().NotBeNull("the stopped uploader released the work home").And.Subject.As<IDisposable>().Dispose();
    }

    [Fact]
    public async Task Alive_CheckRequestsKeepTheUploaderRunning()
    {
        var clock = new UploaderManualClock();
        await using var host = await UploaderTestHost.StartAsync(time: clock);
        await host.AddTaskAsync("t", 10);

        for (var i = 0; i < 3; i++)
        {
            await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(4), Scan);
            await KeepAliveAsync(host);
        }

        host.Server.Completion.IsCompleted.Should().BeFalse();
    }

    [Fact]
    public async Task Stop_UnfinishedTaskFile_IsKeptForItsDownloadingClient()
    {
        var clock = new UploaderManualClock(DateTimeOffset.UtcNow);
        var host = await UploaderTestHost.StartAsync(time: clock);
        await host.AddTaskAsync("downloading", 10);

        await host.Server.StopAsync();

        File.Exists(Path.Combine(host.DataDir, "downloading.service")).Should().BeTrue();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Stop_WhileReportingServiceDown_CheckAndPingAnswer503()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var reporter = new HangingReporter();
        await using var host = await UploaderTestHost.StartAsync(time: new UploaderManualClock(), reporter: reporter);
        await host.AddTaskAsync("done", 100);
        await FinishAsync(host, "done", "127.0.0.1:1");

        host.Server.RequestShutdown();
        await WaitUntilAsync(() => !reporter.Calls.IsEmpty, timeout.Token);
        using var check = await host.CheckAsync("new-download", host.DataDir);
        using var ping = await host.Client.GetAsync("server/ping", timeout.Token);
        reporter.Release();
        await host.Server.Completion.WaitAsync(timeout.Token);

        check.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "a new download must not take a port about to close");
        ping.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        host.Server.Tasks.TryGet("new-download", out _).Should().BeFalse();
    }

    [Fact]
    public async Task Alive_DownloadWritingItsFile_KeepsTheUploaderUntilItStopsWriting()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var clock = new UploaderManualClock(DateTimeOffset.UtcNow);
        await using var host = await UploaderTestHost.StartAsync(time: clock);
        await host.AddTaskAsync("downloading", 10);
        var file = Path.Combine(host.DataDir, "downloading.service");

        for (var minute = 0; minute < 8; minute++)
        {
            await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(1), Scan);
            File.SetLastWriteTimeUtc(file, clock.GetUtcNow().UtcDateTime);
        }

        host.Server.Completion.IsCompleted.Should().BeFalse("a download writing its file for 8 minutes keeps its uploader, with no request at all");
        File.Exists(file).Should().BeTrue();

        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(5) + Scan, Scan);
        await host.Server.Completion.WaitAsync(timeout.Token);
        File.Exists(file).Should().BeFalse("not written for the alive time, it is abandoned by the same rule");
    }

    [Fact]
    public async Task Shutdown_ReportsHangUntilCancelled_AllFilesAreDeletedAndEveryReportWasSent()
    {
        var reporter = new HangingReporter();
        await using var host = await UploaderTestHost.StartAsync(time: new UploaderManualClock(), reporter: reporter);
        string[] names = ["a", "b", "c"];
        foreach (var name in names)
        {
            await host.AddTaskAsync(name, 10);
            await FinishAsync(host, name, "127.0.0.1:1");
        }

        using var cleanup = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var act = () => host.Server.Janitor.ShutdownAsync(cleanup.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        names.Should().AllSatisfy(n => File.Exists(Path.Combine(host.DataDir, n + ".service")).Should().BeFalse("deleting comes before any report"));
        reporter.Calls.Should().HaveCount(3, "the reports go out in parallel");
    }

    [Fact]
    public async Task Expire_HangingReports_TimeOutTogetherWithoutStallingTheJanitor()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var reporter = new HangingReporter();
        var clock = new UploaderManualClock();
        await using var host = await UploaderTestHost.StartAsync(o => o with { ExpireTime = TimeSpan.FromMinutes(1), ScanInterval = TimeSpan.FromHours(1) }, time: clock, reporter: reporter);
        foreach (var name in new[] { "a", "b" })
        {
            await host.AddTaskAsync(name, 10);
            await FinishAsync(host, name, "127.0.0.1:1");
        }

        clock.Advance(TimeSpan.FromMinutes(2));
        var expiring = host.Server.Janitor.ExpireAsync(timeout.Token);
        await WaitUntilAsync(() => reporter.Calls.Count == 2, timeout.Token);
        clock.Advance(UploaderJanitor.ReportTimeout);

        (await expiring.WaitAsync(timeout.Token)).Should().Be(2);
        File.Exists(Path.Combine(host.DataDir, "a.service")).Should().BeFalse();
        File.Exists(Path.Combine(host.DataDir, "b.service")).Should().BeFalse();
    }

    private static async Task KeepAliveAsync(UploaderTestHost host, string name = "keepalive")
    {
        using var response = await host.CheckAsync(name, host.DataDir);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    private static async Task FinishAsync(UploaderTestHost host, string name, string superNode)
    {
        using var response = await host.Client.GetAsync($"client/finish?taskFileName={name}&taskID={TaskId}&cid=127.0.0.1-9-1.000&superNode={superNode}");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Records each service-down report and holds it until <see cref="Release"/> or its cancellation.</summary>
    private sealed class HangingReporter : IServiceDownReporter
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public System.Collections.Concurrent.ConcurrentQueue<string> Calls { get; } = new();

        public async Task<bool> ReportAsync(string superNode, string taskId, string cid, CancellationToken cancellationToken)
        {
            Calls.Enqueue(taskId);
            await _release.Task.WaitAsync(cancellationToken);
            return true;
        }

        public void Release() => _release.TrySetResult();
    }
}
