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
}
