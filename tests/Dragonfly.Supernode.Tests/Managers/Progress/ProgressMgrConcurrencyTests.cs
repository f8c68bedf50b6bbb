using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Tests.Managers.Support;

namespace Dragonfly.Supernode.Tests.Managers.Progress;

public sealed class ProgressMgrConcurrencyTests : IDisposable
{
    private readonly Tracker _tracker = new();

    public void Dispose() => _tracker.Dispose();

    [Fact]
    public async Task PullAndReport_ManyClientsInParallel_LimitsHoldAndLoadsReturnToZero()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        const int Pieces = 24;
        var clients = new List<RegistrationResult>();
        for (var i = 0; i < 16; i++)
        {
            clients.Add(await _tracker.RegisterAsync());
        }

        var taskId = clients[0].TaskId;
        await _tracker.CdnPiecesAsync(taskId, Pieces);
        await _tracker.CdnSuccessAsync(taskId, Pieces);
        var maxProducerLoad = 0;
        var maxSuperLoad = 0;

        var workers = clients.Select(client => Task.Run(async () =>
        {
            var random = new Random(client.Cid.GetHashCode());
            var outcome = await _tracker.PullAsync(client);
            for (var round = 0; round < 10_000 && outcome is not PullOutcome.Finished; round++)
            {
                cts.Token.ThrowIfCancellationRequested();
                if (outcome is PullOutcome.Continue { Pieces.Count: > 0 } next)
                {
                    var swarm = _tracker.Progress.GetSwarm(taskId)!;
                    InterlockedMax(ref maxSuperLoad, swarm.SuperLoad);
                    foreach (var c in clients)
                    {
                        InterlockedMax(ref maxProducerLoad, _tracker.Progress.GetPeer(c.PeerId)!.ProducerLoad);
                    }

                    PieceTaskItem? last = null;
                    foreach (var piece in next.Pieces)
                    {
                        var ok = random.Next(10) > 0;
                        _tracker.Pull.ReportPiece(taskId.Value, client.Cid.Value, piece.Cid.Value, piece.Range.ToString(), ok ? PieceResult.Success : PieceResult.Failed)
                            .Should().Be(PieceReportOutcome.Recorded);
                        last = piece;
                    }

                    outcome = await _tracker.PullAsync(client, "701", "503", last!.Range.ToString(), last.Cid.Value);
                }
                else
                {
                    await Task.Yield();
                    outcome = await _tracker.PullAsync(client, "701", "502");
                }
            }

            outcome.Should().BeOfType<PullOutcome.Finished>();
        }, cts.Token)).ToArray();

        await Task.WhenAll(workers);

        maxSuperLoad.Should().BeLessThanOrEqualTo(4);
        maxProducerLoad.Should().BeLessThanOrEqualTo(5);
        var final = _tracker.Progress.GetSwarm(taskId)!;
        final.SuperLoad.Should().Be(0);
        final.Clients.Should().OnlyContain(c => c.SucceededPieces.Count == Pieces && c.RunningPieces.Count == 0);
        clients.Should().OnlyContain(c => _tracker.Progress.GetPeer(c.PeerId)!.ProducerLoad == 0);
        (final.Stats.PiecesFromPeers + final.Stats.PiecesFromSupernode).Should().Be(16 * Pieces);
        final.Stats.PiecesFromPeers.Should().BeGreaterThan(0, "later clients get pieces from earlier ones");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

public sealed class ProgressMgrPeerLifecycleTests : IDisposable
{
    private readonly Tracker _tracker = new();

    public void Dispose() => _tracker.Dispose();

    [Fact]
    public async Task InitClient_ServiceDownPeerJoinsAgain_IsUpAgain()
    {
        var peer = _tracker.Peers.Register(new Supernode.Managers.Peers.PeerRegistration("192.168.0.8", "v1", 15008, null));
        var first = await _tracker.RegisterAsync(_tracker.Request(url: "http://h/a") with { PeerId = peer.Id.Value });
        _tracker.Pull.ServiceDown(first.TaskId.Value, first.Cid.Value).Should().Be(ServiceDownOutcome.MarkedDown);

        await _tracker.RegisterAsync(_tracker.Request(url: "http://h/b") with { PeerId = peer.Id.Value });

        _tracker.Progress.GetPeer(peer.Id)!.ServiceDownTime.Should().BeNull();
    }
}
