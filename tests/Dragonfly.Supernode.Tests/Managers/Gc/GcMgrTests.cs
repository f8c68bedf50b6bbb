using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.DfgetTasks;
using Dragonfly.Supernode.Managers.Gc;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Tests.Managers.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Supernode.Tests.Managers.Gc;

public sealed class GcMgrTests : IDisposable
{
    private readonly Tracker _tracker = new();

    public void Dispose() => _tracker.Dispose();

    [Fact]
    public async Task RunOnce_TaskIdleLessThanExpiry_IsKept()
    {
        var client = await _tracker.RegisterAsync();
        _tracker.Time.Advance(TimeSpan.FromMinutes(3) - TimeSpan.FromSeconds(1));

        var (tasks, _) = await _tracker.Gc.RunOnceAsync(CancellationToken.None);

        tasks.Should().Be(0);
        _tracker.Tasks.TryGet(client.TaskId, out _).Should().BeTrue();
    }

    [Fact]
    public async Task RunOnce_TaskIdleForExpiry_CollectsTaskDfgetTasksProgressAndCdnState()
    {
        var client = await _tracker.RegisterAsync();
        _tracker.Time.Advance(TimeSpan.FromMinutes(3));

        var (tasks, _) = await _tracker.Gc.RunOnceAsync(CancellationToken.None);

        tasks.Should().Be(1);
        _tracker.Tasks.TryGet(client.TaskId, out _).Should().BeFalse();
        _tracker.DfgetTasks.TryGet(new DfgetTaskKey(client.Cid, client.TaskId), out _).Should().BeFalse();
        _tracker.Progress.GetSwarm(client.TaskId).Should().BeNull();
        _tracker.Progress.GetPeer(client.PeerId)!.ServiceDownTime.Should().NotBeNull("the task's peers are marked service-down");
        _tracker.Cdn.Deletes.Should().Equal((client.TaskId, false));
    }

    [Fact]
    public async Task RunOnce_PulledTask_IsKept()
    {
        var client = await _tracker.RegisterAsync();
        _tracker.Time.Advance(TimeSpan.FromMinutes(2));
        await _tracker.PullAsync(client);
        _tracker.Time.Advance(TimeSpan.FromMinutes(2));

        (await _tracker.Gc.RunOnceAsync(CancellationToken.None)).Tasks.Should().Be(0);
    }

    [Fact]
    public async Task RunOnce_ServiceDownPeer_CollectedAfterPeerGcDelay()
    {
        var client = await _tracker.RegisterAsync();
        _tracker.Pull.ServiceDown(client.TaskId.Value, client.Cid.Value);
        _tracker.Time.Advance(TimeSpan.FromMinutes(1));
        await _tracker.PullAsync(client);

        (await _tracker.Gc.RunOnceAsync(CancellationToken.None)).Peers.Should().Be(0);
        _tracker.Time.Advance(TimeSpan.FromMinutes(2));
        await _tracker.PullAsync(client);

        (await _tracker.Gc.RunOnceAsync(CancellationToken.None)).Peers.Should().Be(1);
        _tracker.Peers.TryGet(client.PeerId, out _).Should().BeFalse();
        _tracker.Progress.GetPeer(client.PeerId).Should().BeNull();
    }

    [Fact]
    public async Task RunOnce_PeerWithoutSwarmState_CollectedOnceOld()
    {
        var peer = _tracker.Peers.Register(new PeerRegistration("192.168.0.3", "lonely", 15003, null));
        var self = _tracker.Peers.RegisterSupernode();

        (await _tracker.Gc.RunOnceAsync(CancellationToken.None)).Peers.Should().Be(0);
        _tracker.Time.Advance(TimeSpan.FromMinutes(3));

        (await _tracker.Gc.RunOnceAsync(CancellationToken.None)).Peers.Should().Be(1);
        _tracker.Peers.TryGet(peer.Id, out _).Should().BeFalse();
        _tracker.Peers.TryGet(self.Id, out _).Should().BeTrue("the supernode's own peer is never collected");
    }

    [Fact]
    public async Task RunOnce_DfgetTaskOfVanishedTask_IsSwept()
    {
        var client = await _tracker.RegisterAsync();
        _tracker.Tasks.Remove(client.TaskId);

        await _tracker.Gc.RunOnceAsync(CancellationToken.None);

        _tracker.DfgetTasks.List().Should().BeEmpty();
        _tracker.Progress.GetSwarm(client.TaskId).Should().BeNull();
    }

    [Fact]
    public async Task DeleteTask_Full_DeletesCdnFilesAndIsIdempotent()
    {
        var client = await _tracker.RegisterAsync();

        await _tracker.Gc.DeleteTaskAsync(client.TaskId, full: true, CancellationToken.None);
        await _tracker.Gc.DeleteTaskAsync(client.TaskId, full: true, CancellationToken.None);

        _tracker.Tasks.List().Should().BeEmpty();
        _tracker.Cdn.Deletes.Should().Contain((client.TaskId, true));
    }

    [Fact]
    public async Task DeleteTask_ThenRegisterAgain_StartsFresh()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.Gc.DeleteTaskAsync(client.TaskId, full: false, CancellationToken.None);

        var again = await _tracker.RegisterAsync();

        again.TaskId.Should().Be(client.TaskId);
        _tracker.Cdn.Triggers.Should().HaveCount(2);
        _tracker.Origin.ProbeCount.Should().Be(2);
    }

    [Fact]
    public async Task DeletePeer_RemovesRegistrationAndSwarmState()
    {
        var client = await _tracker.RegisterAsync();

        _tracker.Gc.DeletePeer(client.PeerId).Should().BeTrue();

        _tracker.Peers.TryGet(client.PeerId, out _).Should().BeFalse();
        _tracker.Progress.GetPeer(client.PeerId).Should().BeNull();
        _tracker.Gc.DeletePeer(client.PeerId).Should().BeFalse();
        _tracker.Gc.DeletePeer(_tracker.Peers.RegisterSupernode().Id).Should().BeFalse();
    }

    [Fact]
    public async Task GcService_RunsAfterInitialDelayThenEveryInterval()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var service = new GcService(_tracker.Gc, _tracker.Peers, _tracker.Options, _tracker.Time, NullLogger<GcService>.Instance);
        var passes = new List<(int Tasks, int Peers)>();
        var passed = new SemaphoreSlim(0);
        service.PassCompleted += r =>
        {
            lock (passes)
            {
                passes.Add(r);
            }

            passed.Release();
        };
        var client = await _tracker.RegisterAsync();

        await service.StartAsync(cts.Token);
        _tracker.Peers.Supernode.Should().NotBeNull("the service registers the supernode as a peer at start");
        await WaitForTimersAsync(1, cts.Token);
        _tracker.Time.Advance(TimeSpan.FromSeconds(5));
        passes.Should().BeEmpty();

        _tracker.Time.Advance(TimeSpan.FromSeconds(1));
        (await passed.WaitAsync(TimeSpan.FromSeconds(30), cts.Token)).Should().BeTrue();
        passes[0].Tasks.Should().Be(0);

        await WaitForTimersAsync(1, cts.Token);
        _tracker.Time.Advance(TimeSpan.FromMinutes(2));
        (await passed.WaitAsync(TimeSpan.FromSeconds(30), cts.Token)).Should().BeTrue();
        passes[1].Tasks.Should().Be(0, "the task was registered 2m06s ago, under the 3m expiry");

        _tracker.Time.Advance(TimeSpan.FromMinutes(2));
        (await passed.WaitAsync(TimeSpan.FromSeconds(30), cts.Token)).Should().BeTrue();
        passes[2].Tasks.Should().Be(1);
        _tracker.Tasks.TryGet(client.TaskId, out _).Should().BeFalse();

        await service.StopAsync(cts.Token);
    }

    private async Task WaitForTimersAsync(int count, CancellationToken cancellationToken)
    {
        while (_tracker.Time.ActiveTimers < count)
        {
            await Task.Delay(5, cancellationToken);
        }
    }
}

public sealed class GcMgrStaleRunningTests : IDisposable
{
    private readonly Tracker _tracker = new();

    public void Dispose() => _tracker.Dispose();

    [Fact]
    public async Task RunOnce_AbandonedRunningPieces_ReleaseUploaderSlots()
    {
        var seeder = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(seeder.TaskId, 2);
        foreach (var piece in new[] { 0, 1 })
        {
            _tracker.Pull.ReportPieceSuccess(seeder.TaskId.Value, seeder.Cid.Value, Cid.ForSupernode("10.0.0.1", seeder.TaskId).Value, Tracker.RangeOf(piece));
        }

        var dead = await _tracker.RegisterAsync();
        var pieces = ((Supernode.Managers.Registration.PullOutcome.Continue)await _tracker.PullAsync(dead)).Pieces;
        pieces.Should().HaveCount(2).And.OnlyContain(p => p.Cid == seeder.Cid);
        _tracker.Progress.GetPeer(seeder.PeerId)!.ProducerLoad.Should().Be(2);

        // The dead client never reports; the seeder keeps pulling so the task stays alive.
        _tracker.Time.Advance(TimeSpan.FromMinutes(2));
        await _tracker.PullAsync(seeder, "701", "502");
        await _tracker.Gc.RunOnceAsync(CancellationToken.None);
        _tracker.Progress.GetPeer(seeder.PeerId)!.ProducerLoad.Should().Be(2);

        _tracker.Time.Advance(TimeSpan.FromMinutes(1));
        await _tracker.PullAsync(seeder, "701", "502");
        await _tracker.Gc.RunOnceAsync(CancellationToken.None);

        _tracker.Progress.GetPeer(seeder.PeerId)!.ProducerLoad.Should().Be(0);
        _tracker.Progress.GetSwarm(seeder.TaskId)!.Clients.Single(c => c.Cid == dead.Cid).RunningPieces.Should().BeEmpty();
    }
}
