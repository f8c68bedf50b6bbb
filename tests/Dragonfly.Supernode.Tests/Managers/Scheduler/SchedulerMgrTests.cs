using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Scheduler;
using Dragonfly.TestCommon;

namespace Dragonfly.Supernode.Tests.Managers.Scheduler;

public class SchedulerMgrTests
{
    private static readonly TaskId Task = TaskId.Parse(new string('a', 64));
    private readonly FakeTimeProvider _time = new();
    private readonly TrackerOptions _options = new() { AdvertiseIp = "10.0.0.1" };
    private readonly TaskSwarm _swarm = new(Task, Cid.ForSupernode("10.0.0.1", Task));
    private int _n;

    private SchedulerMgr Scheduler(int seed = 1, TrackerOptions? options = null) => new(options ?? _options, _time, new Random(seed));

    private ClientProgress Client(PeerPattern pattern = PeerPattern.P2P, int port = 15001, bool streaming = false)
    {
        var n = ++_n;
        var join = new ClientJoin(Task, Cid.Parse($"192.168.0.{n}-1-1.000"), PeerId.Parse($"host{n}-192.168.0.{n}-{n}"), $"192.168.0.{n}", port,
            $"/peer/file/f-{n}", "10.0.0.9", pattern, streaming);
        var client = new ClientProgress(join, new PeerProgress(join.PeerId, pattern));
        _swarm.Clients[client.Cid] = client;
        return client;
    }

    private void Cdn(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _swarm.CdnPieces.Add(i);
        }
    }

    private void Holds(ClientProgress holder, params int[] pieces)
    {
        foreach (var p in pieces)
        {
            holder.Succeeded.Add(p);
            _swarm.AddHolder(p, holder);
        }
    }

    private ScheduleResult Run(ClientProgress client, SchedulerMgr? scheduler = null) =>
        (scheduler ?? Scheduler()).Schedule(_swarm, client, _time.GetTimestamp());

    [Fact]
    public void Schedule_NoRunning_ReturnsDownLimitPieces()
    {
        Cdn(10);
        var client = Client();

        var result = Run(client);

        result.Status.Should().Be(ScheduleStatus.Scheduled);
        result.Pieces.Should().HaveCount(4);
        result.Pieces.Select(p => p.PieceNum).Should().OnlyHaveUniqueItems();
        client.Running.Should().HaveCount(4);
        _swarm.SuperLoad.Should().Be(4);
    }

    [Fact]
    public void Schedule_SomeRunning_ReturnsLimitMinusRunning()
    {
        Cdn(10);
        var client = Client();
        client.AddRunning(0, null);

        var result = Run(client);

        result.Pieces.Should().HaveCount(3);
        result.Pieces.Select(p => p.PieceNum).Should().NotContain(0);
    }

    [Fact]
    public void Schedule_RunningAtLimit_ReturnsSaturated()
    {
        Cdn(10);
        var client = Client();
        for (var i = 0; i < 4; i++)
        {
            client.AddRunning(i, null);
        }

        Run(client).Status.Should().Be(ScheduleStatus.Saturated);
    }

    [Fact]
    public void Schedule_ClientHasAllPieces_ReturnsNothingAvailable()
    {
        Cdn(3);
        var client = Client();
        client.Succeeded.Add(0);
        client.Succeeded.Add(1);
        client.Succeeded.Add(2);

        Run(client).Status.Should().Be(ScheduleStatus.NothingAvailable);
    }

    [Fact]
    public void Schedule_OnlyCdnPiecesAreCandidates()
    {
        _swarm.CdnPieces.Add(7);
        var client = Client();

        Run(client).Pieces.Select(p => p.PieceNum).Should().Equal(7);
    }

    [Fact]
    public void Schedule_OrdersRarestFirst()
    {
        Cdn(4);
        var a = Client();
        var b = Client();
        var c = Client();
        Holds(a, 0, 1, 2);
        Holds(b, 0, 1);
        Holds(c, 0);
        var client = Client();

        var result = Run(client);

        // piece 3: 0 holders, 2: 1, 1: 2, 0: 3.
        result.Pieces.Select(p => p.PieceNum).Should().Equal(3, 2, 1, 0);
    }

    [Fact]
    public void Schedule_SameRarity_NearestToRunningMeanFirst()
    {
        Cdn(20);
        var client = Client();
        client.AddRunning(10, null);
        client.AddRunning(12, null);
        _swarm.SuperLoad = 0;

        var result = Run(client);

        // mean 11: 11 (distance 0), then 9 and 13 (distance 2) in random order.
        result.Pieces.Should().HaveCount(2);
        result.Pieces[0].PieceNum.Should().Be(11);
        new[] { 9, 13 }.Should().Contain(result.Pieces[1].PieceNum);
    }

    [Fact]
    public void Schedule_AloneNothingRunning_FrontOfTheFileFirst()
    {
        Cdn(20);
        var client = Client();

        // As the original: with no running pieces the centre is piece 0, so a lone client reads the file front to back.
        foreach (var seed in new[] { 1, 2, 3 })
        {
            client.Running.Clear();
            client.RunningSum = 0;
            _swarm.SuperLoad = 0;
            Run(client, Scheduler(seed)).Pieces.Select(p => p.PieceNum).Should().Equal(0, 1, 2, 3);
        }
    }

    [Fact]
    public void Schedule_OthersFinishedNothingRunning_FrontOfTheFileFirst()
    {
        Cdn(8);
        _swarm.PieceTotal = 8;
        var seeder = Client();
        Holds(seeder, 0, 1, 2, 3, 4, 5, 6, 7);
        var client = Client();

        Run(client, Scheduler(seed: 5)).Pieces.Select(p => p.PieceNum).Should().Equal(0, 1, 2, 3);
    }

    [Fact]
    public void Schedule_OtherClientRemovedNothingRunning_FrontOfTheFileFirst()
    {
        Cdn(8);
        var gone = Client();
        Holds(gone, 0, 1);
        gone.Removed = true;
        var client = Client();

        // A client marked removed downloads nothing, wherever it is still referenced from.
        Run(client, Scheduler(seed: 9)).Pieces.Select(p => p.PieceNum).Should().Equal(2, 3, 4, 5);
    }

    [Fact]
    public void Schedule_OthersStillDownloadingNothingRunning_TiesStayRandom()
    {
        // A crowd starting together: each peer's first pieces are drawn at random, so they hold different pieces to trade.
        var orders = new HashSet<string>();
        foreach (var seed in new[] { 1, 2, 3, 4 })
        {
            var swarm = new TaskSwarm(Task, Cid.ForSupernode("10.0.0.1", Task));
            for (var i = 0; i < 64; i++)
            {
                swarm.CdnPieces.Add(i);
            }

            ClientProgress Join(int n)
            {
                var join = new ClientJoin(Task, Cid.Parse($"192.168.9.{n}-1-1.000"), PeerId.Parse($"h-192.168.9.{n}-{n}"), $"192.168.9.{n}", 15001, "/p", "10.0.0.9", PeerPattern.P2P);
                var progress = new ClientProgress(join, new PeerProgress(join.PeerId, PeerPattern.P2P));
                swarm.Clients[progress.Cid] = progress;
                return progress;
            }

            Join(1);
            var client = Join(2);
            orders.Add(string.Join(",", Scheduler(seed).Schedule(swarm, client, 0).Pieces.Select(p => p.PieceNum)));
        }

        orders.Should().HaveCountGreaterThan(1);
        orders.Should().NotContain("0,1,2,3");
    }

    [Fact]
    public void Schedule_Ties_AreRandomButReproducibleWithSeed()
    {
        var options = new TrackerOptions { AdvertiseIp = "10.0.0.1", PeerDownLimit = 16 };
        var orders = new List<string>();
        foreach (var seed in new[] { 1, 1, 2, 3, 4 })
        {
            var swarm = new TaskSwarm(Task, Cid.ForSupernode("10.0.0.1", Task));
            for (var i = 0; i < 64; i++)
            {
                swarm.CdnPieces.Add(i);
            }

            var join = new ClientJoin(Task, Cid.Parse("192.168.9.9-1-1.000"), PeerId.Parse("h-192.168.9.9-1"), "192.168.9.9", 15001, "/p", "10.0.0.9", PeerPattern.P2P);
            var client = new ClientProgress(join, new PeerProgress(join.PeerId, PeerPattern.P2P));
            swarm.Clients[client.Cid] = client;

            // Running 0 and 63, mean 31.5: 31 and 32 tie, then 30 and 33, and so on.
            client.AddRunning(0, null);
            client.AddRunning(63, null);
            var result = Scheduler(seed, options).Schedule(swarm, client, 0);
            var pieces = result.Pieces.Select(p => p.PieceNum).ToList();
            pieces.Take(2).Should().BeEquivalentTo([31, 32]);
            orders.Add(string.Join(",", pieces));
        }

        orders[0].Should().Be(orders[1]);
        orders.Skip(1).Distinct().Should().HaveCountGreaterThan(1);
    }

    [Fact]
    public void Schedule_StreamingClient_GetsLowestPiecesInOrderWhateverRarityAndSeed()
    {
        Cdn(64);
        var a = Client();
        var b = Client();
        Holds(a, 0, 1, 2, 3, 4, 5);
        Holds(b, 0, 1, 2, 3);
        var client = Client(streaming: true);

        foreach (var seed in Enumerable.Range(1, 20))
        {
            var result = Run(client, Scheduler(seed));

            // Rarest-first would start with the pieces nobody holds (6..63); a streaming client needs piece 0 first.
            result.Pieces.Select(p => p.PieceNum).Should().Equal(0, 1, 2, 3);
            client.Running.Clear();
            client.RunningSum = 0;
            for (var i = 0; i < 4; i++)
            {
                a.Peer.ReleaseUpload();
                b.Peer.ReleaseUpload();
            }
        }
    }

    [Fact]
    public void Schedule_NonStreamingClient_KeepsRarestFirstOnTheSameSwarm()
    {
        Cdn(64);
        var a = Client();
        Holds(a, 0, 1, 2, 3);
        var client = Client();

        var result = Run(client);

        result.Pieces.Should().HaveCount(4);
        result.Pieces.Select(p => p.PieceNum).Should().OnlyContain(p => p >= 4);
    }

    [Fact]
    public void Schedule_StreamingClient_ContinuesAfterWhatItHasAndRuns()
    {
        Cdn(40);
        var client = Client(streaming: true);
        for (var i = 0; i < 10; i++)
        {
            client.Succeeded.Add(i);
        }

        client.Succeeded.Add(11);
        client.AddRunning(10, null);
        client.AddRunning(30, null);
        _swarm.SuperLoad = 2;
        _swarm.SuperLoadTouched = _time.GetTimestamp();

        var result = Run(client);

        // Not the pieces nearest the running mean (20): the lowest ones still missing.
        result.Pieces.Select(p => p.PieceNum).Should().Equal(12, 13);
    }

    [Fact]
    public void Schedule_StreamingClient_PieceWithoutFreeUploaderIsSkippedNotAwaited()
    {
        Cdn(6);
        var busy = Client();
        var free = Client();
        Holds(busy, 0);
        Holds(free, 2, 3);
        for (var i = 0; i < 5; i++)
        {
            busy.Peer.TryAcquireUpload(5).Should().BeTrue();
        }

        _swarm.SuperLoad = 4;
        _swarm.SuperLoadTouched = _time.GetTimestamp();
        var client = Client(streaming: true);

        var result = Run(client);

        // 0: its holder is at the up-limit and the supernode is full; 1: only the (full) supernode has it.
        result.Pieces.Select(p => p.PieceNum).Should().Equal(2, 3);
        result.Pieces.Should().OnlyContain(p => p.Uploader == free.Cid);
    }

    [Fact]
    public void Schedule_StreamingClient_LargeSwarm_AllocatesLittle()
    {
        Cdn(1000);
        var holder = Client();
        for (var piece = 0; piece < 1000; piece++)
        {
            Holds(holder, piece);
        }

        var scheduler = Scheduler(7);
        scheduler.Schedule(_swarm, Client(streaming: true), 0); // warm up (JIT, pools)
        var client = Client(streaming: true);
        client.Succeeded.Add(0);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var result = scheduler.Schedule(_swarm, client, 0);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        result.Pieces.Select(p => p.PieceNum).Should().Equal(1, 2, 3, 4);
        allocated.Should().BeLessThan(2048);
    }

    [Fact]
    public void Schedule_HolderAvailable_PrefersPeerOverSupernode()
    {
        Cdn(1);
        var holder = Client();
        Holds(holder, 0);
        var client = Client();

        var piece = Run(client).Pieces.Single();

        piece.Uploader.Should().Be(holder.Cid);
        piece.PeerIp.Should().Be(holder.Ip);
        piece.PeerPort.Should().Be(holder.Port);
        piece.Path.Should().Be(holder.Path);
        piece.FromSupernode.Should().BeFalse();
        holder.Peer.ProducerLoad.Should().Be(1);
        _swarm.SuperLoad.Should().Be(0);
    }

    [Fact]
    public void Schedule_NoHolder_UsesSupernodeWithClientsSupernodeIp()
    {
        Cdn(1);
        var client = Client();

        var piece = Run(client).Pieces.Single();

        piece.Uploader.Should().Be(_swarm.SupernodeCid);
        piece.PeerIp.Should().Be("10.0.0.9");
        piece.PeerPort.Should().Be(8001);
        piece.FromSupernode.Should().BeTrue();
    }

    [Fact]
    public void Schedule_HolderAtUpLimit_FallsBackToSupernode()
    {
        Cdn(1);
        var holder = Client();
        Holds(holder, 0);
        for (var i = 0; i < 5; i++)
        {
            holder.Peer.TryAcquireUpload(5).Should().BeTrue();
        }

        var piece = Run(Client()).Pieces.Single();

        piece.FromSupernode.Should().BeTrue();
        holder.Peer.ProducerLoad.Should().Be(5);
    }

    [Fact]
    public void Schedule_SupernodeAtDownLimit_SkipsPiece()
    {
        Cdn(2);
        _swarm.SuperLoad = 4;
        _swarm.SuperLoadTouched = _time.GetTimestamp();

        Run(Client()).Status.Should().Be(ScheduleStatus.NothingAvailable);
    }

    [Fact]
    public void Schedule_SupernodeLoad_SharedAcrossClientsUpToDownLimit()
    {
        Cdn(10);
        var first = Run(Client());
        var second = Run(Client());

        first.Pieces.Should().HaveCount(4);
        second.Status.Should().Be(ScheduleStatus.NothingAvailable);
        _swarm.SuperLoad.Should().Be(4);
    }

    [Fact]
    public void Schedule_DefaultCdnLoadLimit_IsTheDownLimitAcrossClients()
    {
        Cdn(20);
        Run(Client()).Pieces.Should().HaveCount(4);

        Run(Client()).Status.Should().Be(ScheduleStatus.NothingAvailable, "the supernode already serves 4 pieces of this task");
        _swarm.SuperLoad.Should().Be(4);
    }

    [Fact]
    public void Schedule_CdnLoadLimitSet_SupernodeServesThatManyPiecesAcrossClients()
    {
        Cdn(20);
        var scheduler = Scheduler(options: _options with { CdnLoadLimit = 6 });

        Run(Client(), scheduler).Pieces.Should().HaveCount(4, "a client still runs at most down-limit pieces");
        Run(Client(), scheduler).Pieces.Should().HaveCount(2);
        Run(Client(), scheduler).Status.Should().Be(ScheduleStatus.NothingAvailable);
        _swarm.SuperLoad.Should().Be(6);
    }

    [Fact]
    public void Schedule_SuperLoadUntouchedFor30s_IsReset()
    {
        Cdn(10);
        _swarm.SuperLoad = 4;
        _swarm.SuperLoadTouched = _time.GetTimestamp();
        var client = Client();
        _time.Advance(TimeSpan.FromSeconds(29));
        Run(client).Status.Should().Be(ScheduleStatus.NothingAvailable);

        _time.Advance(TimeSpan.FromSeconds(1));

        Run(client).Pieces.Should().HaveCount(4);
    }

    [Fact]
    public void Schedule_ServiceDownHolder_IsSkippedAndRemoved()
    {
        Cdn(1);
        var holder = Client();
        Holds(holder, 0);
        holder.Peer.TryMarkServiceDown(1).Should().BeTrue();

        var piece = Run(Client()).Pieces.Single();

        piece.FromSupernode.Should().BeTrue();
        _swarm.HoldersOf(0).Should().BeEmpty();
    }

    [Fact]
    public void Schedule_EliminatedHolder_IsSkippedAndRemoved()
    {
        Cdn(1);
        var holder = Client();
        Holds(holder, 0);
        for (var i = 0; i < 5; i++)
        {
            holder.Peer.IncrementServiceErrors();
        }

        Run(Client()).Pieces.Single().FromSupernode.Should().BeTrue();
        _swarm.HoldersOf(0).Should().BeEmpty();
    }

    [Fact]
    public void Schedule_HolderBelowEliminationLimit_IsStillChosen()
    {
        Cdn(1);
        var holder = Client();
        Holds(holder, 0);
        for (var i = 0; i < 4; i++)
        {
            holder.Peer.IncrementServiceErrors();
        }

        Run(Client()).Pieces.Single().Uploader.Should().Be(holder.Cid);
    }

    [Fact]
    public void Schedule_RemovedPeer_IsSkippedAndRemoved()
    {
        Cdn(1);
        var holder = Client();
        Holds(holder, 0);
        holder.Peer.MarkRemoved();

        Run(Client()).Pieces.Single().FromSupernode.Should().BeTrue();
        _swarm.HoldersOf(0).Should().BeEmpty();
    }

    [Fact]
    public void Schedule_BlacklistedHolder_IsSkippedButKept()
    {
        Cdn(1);
        var holder = Client();
        Holds(holder, 0);
        var client = Client();
        client.Peer.Blacklist(holder.Peer.Id);

        Run(client).Pieces.Single().FromSupernode.Should().BeTrue();
        _swarm.HoldersOf(0).Should().ContainSingle();
    }

    [Fact]
    public void Schedule_FirstEligibleHolderWins()
    {
        Cdn(1);
        var busy = Client();
        var free = Client();
        Holds(busy, 0);
        Holds(free, 0);
        for (var i = 0; i < 5; i++)
        {
            busy.Peer.TryAcquireUpload(5);
        }

        Run(Client()).Pieces.Single().Uploader.Should().Be(free.Cid);
    }

    [Fact]
    public void Schedule_NonP2PHolder_IsNotChosen()
    {
        Cdn(1);
        var cdnClient = Client(PeerPattern.Cdn, port: 0);
        _swarm.AddHolder(0, cdnClient);

        Run(Client()).Pieces.Single().FromSupernode.Should().BeTrue();
    }

    [Fact]
    public void Schedule_ClientErrorsAboveFailureLimit_OnlySupernode()
    {
        Cdn(2);
        var holder = Client();
        Holds(holder, 0, 1);
        var client = Client();
        for (var i = 0; i < 6; i++)
        {
            client.Peer.IncrementClientErrors();
        }

        var result = Run(client);

        result.Pieces.Should().HaveCount(2).And.OnlyContain(p => p.FromSupernode);
        holder.Peer.ProducerLoad.Should().Be(0);
    }

    [Fact]
    public void Schedule_ClientErrorsAtFailureLimit_StillUsesPeers()
    {
        Cdn(1);
        var holder = Client();
        Holds(holder, 0);
        var client = Client();
        for (var i = 0; i < 5; i++)
        {
            client.Peer.IncrementClientErrors();
        }

        Run(client).Pieces.Single().Uploader.Should().Be(holder.Cid);
    }

    [Fact]
    public void Schedule_LargeSwarm_AssignsRarestPiecesAndAllocatesLittle()
    {
        var options = new TrackerOptions { AdvertiseIp = "10.0.0.1" };
        Cdn(1000);
        var holders = new List<ClientProgress>();
        for (var p = 0; p < 1000; p++)
        {
            holders.Add(Client());
        }

        // Every piece but 500..503 is held by all 1000 peers; those four by one peer each.
        for (var piece = 0; piece < 1000; piece++)
        {
            if (piece is >= 500 and <= 503)
            {
                Holds(holders[piece], piece);
                continue;
            }

            foreach (var h in holders)
            {
                _swarm.AddHolder(piece, h);
            }
        }

        var client = Client();
        var scheduler = Scheduler(7, options);
        scheduler.Schedule(_swarm, Client(), 0); // warm up (JIT, pools)
        var before = GC.GetAllocatedBytesForCurrentThread();

        var result = scheduler.Schedule(_swarm, client, 0);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        result.Pieces.Select(p => p.PieceNum).Should().BeEquivalentTo([500, 501, 502, 503]);
        allocated.Should().BeLessThan(2048);
    }
}

public class SchedulerMgrRemovedClientTests
{
    [Fact]
    public void Schedule_HolderClientRemoved_IsSkippedAndRemoved()
    {
        var task = TaskId.Parse(new string('d', 64));
        var swarm = new TaskSwarm(task, Cid.ForSupernode("10.0.0.1", task));
        swarm.CdnPieces.Add(0);
        ClientProgress Make(int n)
        {
            var join = new ClientJoin(task, Cid.Parse($"10.1.1.{n}-1-1.000"), PeerId.Parse($"h-10.1.1.{n}-{n}"), $"10.1.1.{n}", 15001, "/p", "10.0.0.9", PeerPattern.P2P);
            var c = new ClientProgress(join, new PeerProgress(join.PeerId, PeerPattern.P2P));
            swarm.Clients[c.Cid] = c;
            return c;
        }

        var holder = Make(1);
        holder.Succeeded.Add(0);
        swarm.AddHolder(0, holder);
        holder.Removed = true;
        var client = Make(2);

        var result = new SchedulerMgr(new TrackerOptions(), new FakeTimeProvider(), new Random(1)).Schedule(swarm, client, 0);

        result.Pieces.Single().FromSupernode.Should().BeTrue();
        swarm.HoldersOf(0).Should().BeEmpty();
    }
}
