using Dragonfly.Common.Errors;
using Dragonfly.Common.Identity;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers;
using Dragonfly.Supernode.Managers.DfgetTasks;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Tests.Managers.Support;

namespace Dragonfly.Supernode.Tests.Managers.Registration;

public sealed class RegistrationServiceTests : IDisposable
{
    private readonly Tracker _tracker = new();

    public void Dispose() => _tracker.Dispose();

    [Fact]
    public async Task Register_NewClient_CreatesPeerTaskDfgetTaskProgressAndTriggersCdn()
    {
        var request = _tracker.Request() with { Headers = ["Authorization: Bearer x"] };

        var result = await _tracker.RegisterAsync(request);

        result.TaskId.Value.Should().Be("6dafc821ffe8bf28cc58d1507e9bf0a52893bbf07ccd288458225f43246f38f9");
        result.FileLength.Should().Be(10 * 1024 * 1024);
        result.PieceSize.Should().Be(4 * 1024 * 1024);
        result.CdnSource.Should().Be("supernode");
        result.Cid.Value.Should().Be(request.Cid);

        var peer = _tracker.Peers.Get(result.PeerId);
        peer.Ip.Should().Be(request.Ip);
        peer.Port.Should().Be(15001);
        var dfgetTask = _tracker.DfgetTasks.Get(new DfgetTaskKey(result.Cid, result.TaskId));
        dfgetTask.Status.Should().Be(DfgetTaskStatus.Waiting);
        dfgetTask.PeerId.Should().Be(result.PeerId);
        dfgetTask.Path.Should().Be(request.Path);
        dfgetTask.SupernodeIp.Should().Be("10.0.0.9");
        dfgetTask.CallSystem.Should().Be("test");
        _tracker.Progress.GetSwarm(result.TaskId)!.Clients.Should().ContainSingle(c => c.Cid == result.Cid);

        var trigger = _tracker.Cdn.Triggers.Should().ContainSingle().Subject;
        trigger.TaskId.Should().Be(result.TaskId);
        trigger.PieceSize.Should().Be(4 * 1024 * 1024);
        trigger.HttpFileLength.Should().Be(10 * 1024 * 1024);
        trigger.Origin.Headers.Should().Contain("Authorization", "Bearer x");
        _tracker.Origin.Requests.Single().Headers.Should().Contain("Authorization", "Bearer x");
    }

    [Fact]
    public async Task Register_SecondClient_ReusesTaskNewPeerNoSecondTrigger()
    {
        var first = await _tracker.RegisterAsync();

        var second = await _tracker.RegisterAsync();

        second.TaskId.Should().Be(first.TaskId);
        second.PeerId.Should().NotBe(first.PeerId);
        _tracker.Cdn.Triggers.Should().ContainSingle();
        _tracker.Progress.GetSwarm(first.TaskId)!.Clients.Should().HaveCount(2);
    }

    [Fact]
    public async Task Register_FilterDropsQueryKeysFromTaskUrl()
    {
        var request = _tracker.Request(url: "http://127.0.0.1:8000/small.bin?sign=abc&x=1") with { Filter = ["sign"] };

        var result = await _tracker.RegisterAsync(request);

        _tracker.Tasks.Get(result.TaskId).TaskUrl.Should().Be("http://127.0.0.1:8000/small.bin?x=1");
        _tracker.Tasks.Get(result.TaskId).RawUrl.Should().Be("http://127.0.0.1:8000/small.bin?sign=abc&x=1");
    }

    [Fact]
    public async Task Register_SourcePattern_ReportsSourceCdn()
    {
        using var tracker = new Tracker(new TrackerOptions { AdvertiseIp = "10.0.0.1", CdnPattern = CdnPattern.Source });

        (await tracker.RegisterAsync()).CdnSource.Should().Be("source");
    }

    [Fact]
    public async Task Register_SourceNotFound_LeavesNothingBehind()
    {
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.NotFound, -1, 404);

        var act = () => _tracker.RegisterAsync();

        (await act.Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.UrlNotReachable);
        AssertEmpty();
    }

    [Fact]
    public async Task Register_CdnTriggerThrows_RollsBackEverything()
    {
        _tracker.Cdn.TriggerThrows = new InvalidOperationException("cdn down");

        var act = () => _tracker.RegisterAsync();

        await act.Should().ThrowAsync<InvalidOperationException>();
        AssertEmpty();
    }

    [Fact]
    public async Task Register_FailureForExistingTask_KeepsTaskAndOtherClients()
    {
        var first = await _tracker.RegisterAsync();
        _tracker.Tasks.CompleteCdn(first.TaskId, new Supernode.Managers.Cdn.CdnResult(false, -1, -1, null, false));
        _tracker.Cdn.TriggerThrows = new InvalidOperationException("cdn down");

        var act = () => _tracker.RegisterAsync();

        await act.Should().ThrowAsync<InvalidOperationException>();
        _tracker.Tasks.TryGet(first.TaskId, out _).Should().BeTrue();
        _tracker.DfgetTasks.List().Should().ContainSingle();
        _tracker.Peers.Count.Should().Be(1);

        // The claimed-but-unstarted CDN run is released: the next registration triggers it.
        _tracker.Cdn.TriggerThrows = null;
        await _tracker.RegisterAsync();
        _tracker.Cdn.Triggers.Should().HaveCount(2);
    }

    [Theory]
    [InlineData("notaurl", "192.168.0.1-1-1.000", "/peer/file/a", "192.168.0.1", 15001)]
    [InlineData("ftp://x/y", "192.168.0.1-1-1.000", "/peer/file/a", "192.168.0.1", 15001)]
    [InlineData(Tracker.SourceUrl, "", "/peer/file/a", "192.168.0.1", 15001)]
    [InlineData(Tracker.SourceUrl, "bad cid", "/peer/file/a", "192.168.0.1", 15001)]
    [InlineData(Tracker.SourceUrl, "192.168.0.1-1-1.000", "", "192.168.0.1", 15001)]
    [InlineData(Tracker.SourceUrl, "192.168.0.1-1-1.000", "/peer/../../etc", "192.168.0.1", 15001)]
    [InlineData(Tracker.SourceUrl, "192.168.0.1-1-1.000", "/peer/file/a", "localhost", 15001)]
    [InlineData(Tracker.SourceUrl, "192.168.0.1-1-1.000", "/peer/file/a", "192.168.0.1", 80)]
    public async Task Register_InvalidInput_ThrowsInvalidValueAndLeavesNothing(string url, string cid, string path, string ip, int port)
    {
        var request = _tracker.Request(url: url) with { Cid = cid, Path = path, Ip = ip, Port = port };

        var act = () => _tracker.RegisterAsync(request);

        (await act.Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.InvalidValue);
        AssertEmpty();
        _tracker.Origin.ProbeCount.Should().Be(0);
    }

    [Fact]
    public async Task Register_BadMd5_ThrowsInvalidValue()
    {
        var act = () => _tracker.RegisterAsync(_tracker.Request() with { Md5 = "xyz" });

        (await act.Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.InvalidValue);
    }

    [Fact]
    public async Task Register_ExistingV1Peer_DoesNotCreatePeer()
    {
        var peer = _tracker.Peers.Register(new PeerRegistration("192.168.0.7", "v1host", 15007, "1.0.6"));

        var result = await _tracker.RegisterAsync(_tracker.Request() with { PeerId = peer.Id.Value, Ip = null, HostName = null });

        result.PeerId.Should().Be(peer.Id);
        _tracker.Peers.Count.Should().Be(1);
    }

    [Fact]
    public async Task Register_UnknownV1Peer_ThrowsNotFound()
    {
        var act = () => _tracker.RegisterAsync(_tracker.Request() with { PeerId = "ghost-1.2.3.4-1" });

        (await act.Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.DataNotFound);
        AssertEmpty();
    }

    [Fact]
    public async Task Register_PortZero_RegistersCdnPatternClient()
    {
        var result = await _tracker.RegisterAsync(_tracker.Request(port: 0));

        _tracker.Peers.Get(result.PeerId).Pattern.Should().Be(PeerPattern.Cdn);
    }

    private void AssertEmpty()
    {
        _tracker.Tasks.List().Should().BeEmpty();
        _tracker.Peers.Count.Should().Be(0);
        _tracker.DfgetTasks.List().Should().BeEmpty();
        _tracker.Progress.GetSwarm(TaskIdentity.ComputeTaskId(Tracker.SourceUrl, null, null)).Should().BeNull();
    }
}

public sealed class RegistrationServiceConcurrencyTests : IDisposable
{
    private readonly Tracker _tracker = new();

    public void Dispose() => _tracker.Dispose();

    [Fact]
    public async Task Register_ConcurrentFirstRegistrations_OneTaskOneTrigger()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        _tracker.Origin.ProbeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registrations = Enumerable.Range(0, 8).Select(_ => _tracker.Registration.RegisterAsync(_tracker.Request(), cts.Token)).ToArray();
        while (_tracker.Origin.ProbeCount < 8)
        {
            await Task.Delay(5, cts.Token);
        }

        _tracker.Origin.ProbeGate.SetResult();
        var results = await Task.WhenAll(registrations);

        results.Select(r => r.TaskId).Distinct().Should().ContainSingle();
        _tracker.Tasks.List().Should().ContainSingle();
        _tracker.Cdn.Triggers.Should().ContainSingle();
        _tracker.DfgetTasks.List().Should().HaveCount(8);
        _tracker.Progress.GetSwarm(results[0].TaskId)!.Clients.Should().HaveCount(8);
    }

    [Fact]
    public async Task Register_Cancelled_LeavesNothingBehind()
    {
        using var cts = new CancellationTokenSource();
        _tracker.Origin.ProbeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = _tracker.Registration.RegisterAsync(_tracker.Request(), cts.Token);

        await cts.CancelAsync();

        await FluentActions.Awaiting(() => registration).Should().ThrowAsync<OperationCanceledException>();
        _tracker.Tasks.List().Should().BeEmpty();
        _tracker.Peers.Count.Should().Be(0);
    }
}
