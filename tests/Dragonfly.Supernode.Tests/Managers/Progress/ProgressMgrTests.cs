using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Scheduler;
using Dragonfly.Supernode.Tests.Managers.Support;

namespace Dragonfly.Supernode.Tests.Managers.Progress;

public sealed class ProgressMgrTests : IDisposable
{
    private static readonly TaskId Task = TaskId.Parse(new string('b', 64));
    private readonly Tracker _tracker = new();
    private int _n;

    private ProgressMgr Progress => _tracker.Progress;

    public void Dispose() => _tracker.Dispose();

    private ClientJoin Join(PeerPattern pattern = PeerPattern.P2P, int port = 15001)
    {
        var n = ++_n;
        var join = new ClientJoin(Task, Cid.Parse($"192.168.1.{n}-1-1.000"), PeerId.Parse($"h{n}-192.168.1.{n}-{n}"), $"192.168.1.{n}", port,
            $"/peer/file/x-{n}", "10.0.0.9", pattern);
        Progress.InitClient(join);
        return join;
    }

    private void Cdn(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Progress.MarkCdnPiece(Task, i);
        }
    }

    [Fact]
    public void UpdatePiece_Success_AddsPieceAndHolderAndReleasesSupernodeLoad()
    {
        Cdn(1);
        var a = Join();
        var piece = Progress.Schedule(Task, a.Cid).Pieces.Single();
        piece.FromSupernode.Should().BeTrue();
        Progress.GetSwarm(Task)!.SuperLoad.Should().Be(1);

        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, piece.Uploader, 4096).Should().Be(PieceUpdateOutcome.Recorded);

        var swarm = Progress.GetSwarm(Task)!;
        swarm.SuperLoad.Should().Be(0);
        swarm.Holders[0].Should().Be(1);
        var client = swarm.Clients.Single();
        client.SucceededPieces.Should().Equal(0);
        client.RunningPieces.Should().BeEmpty();
        swarm.Stats.Should().Be(new PieceSourceStats(1, 4096, 0, 0));
    }

    [Fact]
    public void UpdatePiece_SemiSuccess_CountsAsSuccess()
    {
        Cdn(1);
        var a = Join();

        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.SemiSuccess, default);

        Progress.GetSwarm(Task)!.Clients.Single().SucceededPieces.Should().Equal(0);
    }

    [Fact]
    public void UpdatePiece_SameSuccessTwice_CountsOnce()
    {
        Cdn(1);
        var a = Join();
        var supernode = Cid.ForSupernode("10.0.0.1", Task);

        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, supernode, 100);
        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.SemiSuccess, supernode, 100);

        Progress.GetStats(Task).Should().Be(new PieceSourceStats(1, 100, 0, 0));
        Progress.GetSwarm(Task)!.Holders[0].Should().Be(1);
    }

    [Fact]
    public void UpdatePiece_FromPeer_ReleasesProducerLoadAndCountsPeerBytes()
    {
        Cdn(1);
        var a = Join();
        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, default);
        var b = Join();
        var piece = Progress.Schedule(Task, b.Cid).Pieces.Single();
        piece.Uploader.Should().Be(a.Cid);
        Progress.GetPeer(a.PeerId)!.ProducerLoad.Should().Be(1);

        Progress.UpdatePiece(Task, b.Cid, 0, PieceResult.Success, a.Cid, 777);

        Progress.GetPeer(a.PeerId)!.ProducerLoad.Should().Be(0);
        Progress.GetStats(Task)!.Value.BytesFromPeers.Should().Be(777);
        Progress.GetSwarm(Task)!.Holders[0].Should().Be(2);
    }

    [Fact]
    public void UpdatePiece_ClientNamesItselfAsTheSource_ReleasesTheScheduledUploaderButCountsNoBytesServed()
    {
        Cdn(2);
        var a = Join();
        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, default);
        var b = Join();
        var pieces = Progress.Schedule(Task, b.Cid).Pieces;
        var fromPeer = pieces.Single(p => p.PieceNum == 0);
        fromPeer.Uploader.Should().Be(a.Cid);
        var fromSupernode = pieces.Single(p => p.PieceNum == 1);
        fromSupernode.FromSupernode.Should().BeTrue();
        var before = Progress.GetStats(Task)!.Value;

        // b registered anew and had both pieces on disk already: it reports them with itself as the source.
        Progress.UpdatePiece(Task, b.Cid, 0, PieceResult.SemiSuccess, b.Cid, 777).Should().Be(PieceUpdateOutcome.Recorded);
        Progress.UpdatePiece(Task, b.Cid, 1, PieceResult.Success, b.Cid, 777).Should().Be(PieceUpdateOutcome.Recorded);

        Progress.GetPeer(a.PeerId)!.ProducerLoad.Should().Be(0, "the scheduled uploader's slot is freed all the same");
        var swarm = Progress.GetSwarm(Task)!;
        swarm.SuperLoad.Should().Be(0);
        swarm.Stats.Should().Be(before with { PiecesAlreadyHeld = 2 }, "nothing was transferred, so neither peers nor the supernode served it");
        swarm.Holders[0].Should().Be(2, "b holds the piece and can serve it");
        swarm.Clients.Single(c => c.Cid == b.Cid).SucceededPieces.Should().Equal(0, 1);
    }

    [Fact]
    public void UpdatePiece_Failed_BlacklistsAndCountsErrors()
    {
        Cdn(1);
        var a = Join();
        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, default);
        var b = Join();
        Progress.Schedule(Task, b.Cid).Pieces.Single().Uploader.Should().Be(a.Cid);

        Progress.UpdatePiece(Task, b.Cid, 0, PieceResult.Failed, a.Cid);

        var bPeer = Progress.GetPeer(b.PeerId)!;
        bPeer.ClientErrorCount.Should().Be(1);
        bPeer.Blacklist.Should().ContainKey(a.PeerId);
        var aPeer = Progress.GetPeer(a.PeerId)!;
        aPeer.ServiceErrorCount.Should().Be(1);
        aPeer.ProducerLoad.Should().Be(0);
        Progress.GetSwarm(Task)!.Clients.Single(c => c.Cid == b.Cid).FailedPieces.Should().Equal(0);

        // The blacklisted uploader is not chosen again: the retry goes to the supernode.
        Progress.Schedule(Task, b.Cid).Pieces.Single().FromSupernode.Should().BeTrue();
    }

    [Fact]
    public void UpdatePiece_SuccessAfterFailures_ResetsCounters()
    {
        Cdn(2);
        var a = Join();
        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, default);
        Progress.UpdatePiece(Task, a.Cid, 1, PieceResult.Success, default);
        var b = Join();
        Progress.Schedule(Task, b.Cid);
        Progress.UpdatePiece(Task, b.Cid, 0, PieceResult.Failed, a.Cid);
        Progress.GetPeer(b.PeerId)!.ClientErrorCount.Should().Be(1);

        Progress.UpdatePiece(Task, b.Cid, 1, PieceResult.Success, a.Cid);

        Progress.GetPeer(b.PeerId)!.ClientErrorCount.Should().Be(0);
        Progress.GetPeer(a.PeerId)!.ServiceErrorCount.Should().Be(0);
    }

    [Fact]
    public void UpdatePiece_StaleDstCid_IsTolerated()
    {
        Cdn(1);
        var a = Join();
        Progress.Schedule(Task, a.Cid);

        var outcome = Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, Cid.Parse("cdnnode:10.9.9.9~" + Task.Value));

        outcome.Should().Be(PieceUpdateOutcome.Recorded);
        Progress.GetSwarm(Task)!.SuperLoad.Should().Be(0);
    }

    [Fact]
    public void UpdatePiece_UnknownClient_ReturnsUnknown()
    {
        Cdn(1);
        Progress.UpdatePiece(Task, Cid.Parse("1.1.1.1-1-1.000"), 0, PieceResult.Success, default).Should().Be(PieceUpdateOutcome.UnknownClient);
        Progress.UpdatePiece(TaskId.Parse(new string('c', 64)), Cid.Parse("1.1.1.1-1-1.000"), 0, PieceResult.Success, default)
            .Should().Be(PieceUpdateOutcome.UnknownClient);
    }

    [Fact]
    public void UpdatePiece_BeyondPieceTotal_IsInvalid()
    {
        var a = Join();
        Progress.CompleteCdn(Task, success: true, pieceTotal: 2);

        Progress.UpdatePiece(Task, a.Cid, 2, PieceResult.Success, default).Should().Be(PieceUpdateOutcome.InvalidPiece);
        Progress.UpdatePiece(Task, a.Cid, -1, PieceResult.Success, default).Should().Be(PieceUpdateOutcome.InvalidPiece);
    }

    [Fact]
    public void UpdatePiece_CdnPatternClient_IsNotAHolder()
    {
        Cdn(1);
        var a = Join(PeerPattern.Cdn, port: 0);

        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, default);

        Progress.GetSwarm(Task)!.Holders.Should().BeEmpty();
    }

    [Fact]
    public void IsClientFinished_AllPiecesAfterCdnSuccess_IsTrue()
    {
        Cdn(2);
        var a = Join();
        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, default);
        Progress.UpdatePiece(Task, a.Cid, 1, PieceResult.Success, default);
        Progress.IsClientFinished(Task, a.Cid).Should().BeFalse();

        Progress.CompleteCdn(Task, success: true, pieceTotal: 2);

        Progress.IsClientFinished(Task, a.Cid).Should().BeTrue();
    }

    [Fact]
    public void MarkServiceDown_Twice_SecondIsAlreadyOffline()
    {
        var a = Join();

        Progress.MarkServiceDown(a.PeerId).Should().Be(ServiceDownOutcome.MarkedDown);
        Progress.MarkServiceDown(a.PeerId).Should().Be(ServiceDownOutcome.AlreadyOffline);
        Progress.MarkServiceDown(PeerId.Parse("nobody-1.1.1.1-1")).Should().Be(ServiceDownOutcome.Unknown);
        Progress.GetPeer(a.PeerId)!.ServiceDownTime.Should().Be(_tracker.Time.GetUtcNow());
    }

    [Fact]
    public void ListServiceDownBefore_ReturnsOnlyOldEnough()
    {
        var a = Join();
        var b = Join();
        Progress.MarkServiceDown(a.PeerId);
        _tracker.Time.Advance(TimeSpan.FromMinutes(1));
        Progress.MarkServiceDown(b.PeerId);

        Progress.ListServiceDownBefore(_tracker.Time.GetUtcNow() - TimeSpan.FromSeconds(30)).Should().Equal(a.PeerId);
    }

    [Fact]
    public void DeleteClient_ReleasesItsRunningLoads()
    {
        Cdn(2);
        var a = Join();
        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, default);
        var b = Join();
        var result = Progress.Schedule(Task, b.Cid);
        result.Pieces.Should().HaveCount(2);
        Progress.GetPeer(a.PeerId)!.ProducerLoad.Should().Be(1);
        Progress.GetSwarm(Task)!.SuperLoad.Should().Be(1);

        Progress.DeleteClient(Task, b.Cid).Should().BeTrue();

        Progress.GetPeer(a.PeerId)!.ProducerLoad.Should().Be(0);
        Progress.GetSwarm(Task)!.SuperLoad.Should().Be(0);
    }

    [Fact]
    public void DeleteTask_ReleasesPeerLoadsHeldAcrossTasks()
    {
        Cdn(1);
        var a = Join();
        Progress.UpdatePiece(Task, a.Cid, 0, PieceResult.Success, default);
        var b = Join();
        Progress.Schedule(Task, b.Cid);

        Progress.DeleteTask(Task).Should().BeTrue();

        Progress.GetPeer(a.PeerId)!.ProducerLoad.Should().Be(0);
        Progress.GetSwarm(Task).Should().BeNull();
    }

    [Fact]
    public void InitClient_SameCidAgain_ReplacesAndReleasesOldEntry()
    {
        Cdn(1);
        var a = Join();
        Progress.Schedule(Task, a.Cid);

        Progress.InitClient(a);

        Progress.GetSwarm(Task)!.SuperLoad.Should().Be(0);
        Progress.GetSwarm(Task)!.Clients.Single().RunningPieces.Should().BeEmpty();
    }

    [Fact]
    public void ResetCdn_ForgetsCdnPieces()
    {
        Cdn(3);
        Progress.CompleteCdn(Task, success: false, pieceTotal: 0);

        Progress.ResetCdn(Task);

        var swarm = Progress.GetSwarm(Task)!;
        swarm.CdnPieces.Should().BeEmpty();
        swarm.PieceTotal.Should().Be(-1);
    }

    [Fact]
    public void Schedule_UnknownClient_ReturnsUnknownClient()
    {
        Cdn(1);
        Progress.Schedule(Task, Cid.Parse("9.9.9.9-1-1.000")).Status.Should().Be(ScheduleStatus.UnknownClient);
    }
}
