using Dragonfly.Supernode.Origin;
using Dragonfly.Common.Pieces;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.DfgetTasks;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Tests.Managers.Support;

namespace Dragonfly.Supernode.Tests.Managers.Registration;

public sealed class PiecePullServiceTests : IDisposable
{
    private readonly Tracker _tracker = new();

    public void Dispose() => _tracker.Dispose();

    private Cid SupernodeCid(TaskId taskId) => Cid.ForSupernode("10.0.0.1", taskId);

    [Fact]
    public async Task Pull_CdnNotReady_Waits602()
    {
        var client = await _tracker.RegisterAsync();

        var outcome = await _tracker.PullAsync(client);

        outcome.Should().BeOfType<PullOutcome.Wait>().Which.LegacyCode.Should().Be(602);
        _tracker.DfgetTasks.Get(new DfgetTaskKey(client.Cid, client.TaskId)).Status.Should().Be(DfgetTaskStatus.Running);
    }

    private ValueTask<PullOutcome> HeldPullAsync(RegistrationResult client, string status = "700", string? result = "502", string? range = null, string? dstCid = null) =>
        _tracker.Pull.PullAsync(
            new PullRequest(client.TaskId.Value, client.Cid.Value, status, result, range, dstCid, TimeSpan.FromSeconds(1)), CancellationToken.None);

    [Fact]
    public async Task Pull_HeldWait_AnswersAsSoonAsTheCdnWritesAPiece()
    {
        var client = await _tracker.RegisterAsync();
        var before = _tracker.Time.GetUtcNow();

        var pull = HeldPullAsync(client).AsTask();
        await Task.Delay(50);
        pull.IsCompleted.Should().BeFalse("nothing can be scheduled yet, so the answer is held");
        await _tracker.CdnPiecesAsync(client.TaskId, 1);

        var outcome = await pull.WaitAsync(TimeSpan.FromSeconds(30));
        outcome.Should().BeOfType<PullOutcome.Continue>().Which.Pieces.Single().PieceNum.Should().Be(0);
        _tracker.Time.GetUtcNow().Should().Be(before, "the piece, not the hold's timer, ended the wait (fake time never moved)");
    }

    [Fact]
    public async Task Pull_HeldWait_NothingChanges_WaitsTheWholeHoldThenSaysHowLong()
    {
        var client = await _tracker.RegisterAsync();

        var pull = HeldPullAsync(client).AsTask();
        await Task.Delay(50);
        pull.IsCompleted.Should().BeFalse();
        _tracker.Time.Advance(TimeSpan.FromSeconds(1));

        var wait = (await pull.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeOfType<PullOutcome.Wait>().Subject;
        wait.Held.Should().Be(TimeSpan.FromSeconds(1));
        wait.LegacyCode.Should().Be(602);
    }

    [Fact]
    public async Task Pull_HeldWait_AppliesThePieceReportOnce()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 1);
        var piece = ((PullOutcome.Continue)await _tracker.PullAsync(client)).Pieces.Single();

        // The report of piece 0 is applied, then the answer is held (nothing left to schedule); the CDN's next piece wakes
        // it, and the second look schedules piece 1 without reporting piece 0 again.
        var pull = HeldPullAsync(client, "701", "501", piece.Range.ToString(), piece.Cid.Value).AsTask();
        await Task.Delay(50);
        pull.IsCompleted.Should().BeFalse();
        await _tracker.CdnPiecesAsync(client.TaskId, 1, first: 1);

        (await pull.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeOfType<PullOutcome.Continue>().Which.Pieces.Single().PieceNum.Should().Be(1);
        _tracker.Progress.GetStats(client.TaskId)!.Value.PiecesFromSupernode.Should().Be(1, "piece 0 was counted once");
    }

    [Fact]
    public async Task Pull_Legacy_NeverHeld()
    {
        var client = await _tracker.RegisterAsync();

        var outcome = await _tracker.PullAsync(client);

        outcome.Should().BeOfType<PullOutcome.Wait>().Which.Held.Should().BeNull();
    }

    [Fact]
    public async Task Pull_PiecesReady_Continue601WithSupernodeItems()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 3);

        var outcome = await _tracker.PullAsync(client);

        var pieces = outcome.Should().BeOfType<PullOutcome.Continue>().Subject.Pieces;
        outcome.LegacyCode.Should().Be(601);
        pieces.Should().HaveCount(3);
        var first = pieces.Single(p => p.PieceNum == 1);
        first.Range.ToString().Should().Be("4194304-8388607");
        first.PieceSize.Should().Be(4194304);
        first.PieceMd5.Should().Be(new string('b', 32) + ":4194304");
        first.Cid.Should().Be(SupernodeCid(client.TaskId));
        first.PeerIp.Should().Be("10.0.0.9");
        first.PeerPort.Should().Be(8001);
        first.Path.Should().Be($"/download/{client.TaskId.Shard}/{client.TaskId.Value}");
        first.DownLink.Should().Be(0);
    }

    [Fact]
    public async Task Pull_PieceMd5Unknown_SendsEmptyMd5()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.Observer.OnPieceReadyAsync(client.TaskId, 0, default, CancellationToken.None);

        var outcome = await _tracker.PullAsync(client);

        outcome.Should().BeOfType<PullOutcome.Continue>().Which.Pieces.Single().PieceMd5.Should().BeEmpty();
    }

    [Fact]
    public async Task Pull_RunningAtLimit_Continue601Empty()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 8);
        (await _tracker.PullAsync(client)).Should().BeOfType<PullOutcome.Continue>().Which.Pieces.Should().HaveCount(4);

        var outcome = await _tracker.PullAsync(client, "701", "502");

        outcome.Should().BeOfType<PullOutcome.Continue>().Which.Pieces.Should().BeEmpty();
    }

    [Fact]
    public async Task Pull_RunningReport_RecordsPieceThenSchedulesNext()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 5);
        var pieces = ((PullOutcome.Continue)await _tracker.PullAsync(client)).Pieces;
        var done = pieces[0];

        var outcome = await _tracker.PullAsync(client, "701", "501", done.Range.ToString(), done.Cid.Value);

        var next = outcome.Should().BeOfType<PullOutcome.Continue>().Subject.Pieces.Should().ContainSingle().Subject;
        pieces.Select(p => p.PieceNum).Should().NotContain(next.PieceNum);
        _tracker.Progress.GetSwarm(client.TaskId)!.Clients.Single().SucceededPieces.Should().Equal(done.PieceNum);
    }

    [Fact]
    public async Task Pull_DfdaemonClient_GetsPiecesInPieceOrder()
    {
        var client = await _tracker.RegisterAsync(_tracker.Request() with { Dfdaemon = true });
        await _tracker.CdnPiecesAsync(client.TaskId, 16);

        var first = ((PullOutcome.Continue)await _tracker.PullAsync(client)).Pieces;
        first.Select(p => p.PieceNum).Should().Equal(0, 1, 2, 3);

        // Pieces finish out of order; each report frees a slot for the lowest piece not yet handed out.
        var second = ((PullOutcome.Continue)await _tracker.PullAsync(client, "701", "503", first[2].Range.ToString(), first[2].Cid.Value)).Pieces;
        var third = ((PullOutcome.Continue)await _tracker.PullAsync(client, "701", "503", first[0].Range.ToString(), first[0].Cid.Value)).Pieces;
        second.Select(p => p.PieceNum).Should().Equal(4);
        third.Select(p => p.PieceNum).Should().Equal(5);
    }

    [Fact]
    public async Task Pull_OtherClient_StaysRarestFirstBesideADfdaemon()
    {
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.Ok, 64L * 1024 * 1024, 200); // 17 pieces
        var holder = await _tracker.RegisterAsync(_tracker.Request() with { Dfdaemon = true });
        await _tracker.CdnPiecesAsync(holder.TaskId, 4);
        var held = ((PullOutcome.Continue)await _tracker.PullAsync(holder)).Pieces;
        foreach (var piece in held)
        {
            await _tracker.PullAsync(holder, "701", "503", piece.Range.ToString(), piece.Cid.Value);
        }

        await _tracker.CdnPiecesAsync(holder.TaskId, 12, first: 4);
        var client = await _tracker.RegisterAsync();

        var pieces = ((PullOutcome.Continue)await _tracker.PullAsync(client)).Pieces;

        // The pieces the first peer holds are the least rare: a plain client is not handed them first.
        pieces.Select(p => p.PieceNum).Should().NotIntersectWith(held.Select(p => p.PieceNum));
    }

    [Fact]
    public async Task Pull_AllPiecesAndCdnSuccess_Finished600WithMd5AndWrappedLength()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 3);
        await _tracker.CdnSuccessAsync(client.TaskId, 3, "f56e0000000000000000000000000000");
        var pieces = ((PullOutcome.Continue)await _tracker.PullAsync(client)).Pieces;
        foreach (var piece in pieces.Take(2))
        {
            // The other pieces are all running already: nothing new to hand out.
            (await _tracker.PullAsync(client, "701", "503", piece.Range.ToString(), piece.Cid.Value)).Should().BeOfType<PullOutcome.Wait>();
        }

        var outcome = await _tracker.PullAsync(client, "701", "503", pieces[2].Range.ToString(), pieces[2].Cid.Value);

        var finished = outcome.Should().BeOfType<PullOutcome.Finished>().Subject;
        finished.LegacyCode.Should().Be(600);
        finished.Md5.Should().Be("f56e0000000000000000000000000000");
        finished.FileLength.Should().Be(3L * 4 * 1024 * 1024);
        _tracker.DfgetTasks.Get(new DfgetTaskKey(client.Cid, client.TaskId)).Status.Should().Be(DfgetTaskStatus.Success);
        _tracker.Progress.GetSwarm(client.TaskId)!.SuperLoad.Should().Be(0);
    }

    [Fact]
    public async Task Pull_CdnFailed_Failed500()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.Observer.OnCompletedAsync(client.TaskId, new CdnResult(false, -1, -1, null, false, "md5 mismatch"), CancellationToken.None);

        var outcome = await _tracker.PullAsync(client);

        var failed = outcome.Should().BeOfType<PullOutcome.Failed>().Subject;
        failed.Reason.Should().Be(PullFailure.CdnFailed);
        failed.LegacyCode.Should().Be(500);
    }

    [Fact]
    public async Task Pull_UnknownClientOrTask_TargetNotFound502()
    {
        var client = await _tracker.RegisterAsync();

        var unknownCid = await _tracker.Pull.PullAsync(new PullRequest(client.TaskId.Value, "1.2.3.4-9-9.000", "700", "502", null, null), CancellationToken.None);
        var unknownTask = await _tracker.Pull.PullAsync(new PullRequest(new string('e', 64), client.Cid.Value, "700", "502", null, null), CancellationToken.None);

        unknownCid.Should().BeOfType<PullOutcome.Failed>().Which.LegacyCode.Should().Be(502);
        unknownTask.Should().BeOfType<PullOutcome.Failed>().Which.Reason.Should().Be(PullFailure.TargetNotFound);
    }

    [Theory]
    [InlineData("799", "501", "0-4194303")]
    [InlineData("abc", "501", "0-4194303")]
    [InlineData("701", "599", "0-4194303")]
    [InlineData("701", "501", "")]
    [InlineData("701", "501", "0-100")]
    [InlineData("701", "501", "5-4194308")]
    [InlineData("701", "501", "4194303-0")]
    [InlineData("701", "501", "41943040-46137343")]
    public async Task Pull_BadStatusResultOrRange_ParamError501(string status, string result, string range)
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 3);
        await _tracker.CdnSuccessAsync(client.TaskId, 3);

        var outcome = await _tracker.PullAsync(client, status, result, range, SupernodeCid(client.TaskId).Value);

        var failed = outcome.Should().BeOfType<PullOutcome.Failed>().Subject;
        failed.Reason.Should().Be(PullFailure.ParamError);
        failed.LegacyCode.Should().Be(501);
    }

    [Theory]
    [InlineData(null, "192.168.0.1-1-1.000")]
    [InlineData("nothex", "192.168.0.1-1-1.000")]
    [InlineData("6dafc821ffe8bf28cc58d1507e9bf0a52893bbf07ccd288458225f43246f38f9", "../etc")]
    public async Task Pull_BadIds_ParamError(string? taskId, string cid)
    {
        var outcome = await _tracker.Pull.PullAsync(new PullRequest(taskId, cid, "700", null, null, null), CancellationToken.None);

        outcome.Should().BeOfType<PullOutcome.Failed>().Which.Reason.Should().Be(PullFailure.ParamError);
    }

    [Fact]
    public async Task Pull_V1EnumNames_Accepted()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 1);
        var piece = ((PullOutcome.Continue)await _tracker.PullAsync(client, "STARTED", "INVALID")).Pieces.Single();

        var outcome = await _tracker.PullAsync(client, "running", "semisuc", piece.Range.ToString(), piece.Cid.Value);

        outcome.Should().BeOfType<PullOutcome.Wait>();
        _tracker.Progress.GetSwarm(client.TaskId)!.Clients.Single().SucceededPieces.Should().Equal(0);
    }

    [Fact]
    public async Task Pull_RunningReportWithStaleDstCid_DoesNotFail()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 2);
        var piece = ((PullOutcome.Continue)await _tracker.PullAsync(client)).Pieces[0];

        // The dstCid names a supernode that died (issue #752): the report still counts.
        var outcome = await _tracker.PullAsync(client, "701", "501", piece.Range.ToString(), "cdnnode:10.9.9.9~" + client.TaskId.Value);

        outcome.Should().NotBeOfType<PullOutcome.Failed>();
        _tracker.Progress.GetSwarm(client.TaskId)!.Clients.Single().SucceededPieces.Should().Equal(piece.PieceNum);
    }

    [Fact]
    public async Task Pull_Finished702_SetsStatus()
    {
        var ok = await _tracker.RegisterAsync();
        var bad = await _tracker.RegisterAsync();

        await _tracker.PullAsync(ok, "702", "501");
        await _tracker.PullAsync(bad, "702", "500");

        _tracker.DfgetTasks.Get(new DfgetTaskKey(ok.Cid, ok.TaskId)).Status.Should().Be(DfgetTaskStatus.Success);
        _tracker.DfgetTasks.Get(new DfgetTaskKey(bad.Cid, bad.TaskId)).Status.Should().Be(DfgetTaskStatus.Failed);
    }

    [Fact]
    public async Task Pull_SecondClient_GetsPiecesFromFirstClient()
    {
        var first = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(first.TaskId, 3);
        await _tracker.CdnSuccessAsync(first.TaskId, 3);
        var pieces = ((PullOutcome.Continue)await _tracker.PullAsync(first)).Pieces;
        foreach (var piece in pieces)
        {
            _tracker.Pull.ReportPieceSuccess(first.TaskId.Value, first.Cid.Value, piece.Cid.Value, piece.Range.ToString()).Should().Be(PieceReportOutcome.Recorded);
        }

        (await _tracker.PullAsync(first, "701", "502")).Should().BeOfType<PullOutcome.Finished>();
        var second = await _tracker.RegisterAsync();

        var outcome = await _tracker.PullAsync(second);

        var secondPieces = outcome.Should().BeOfType<PullOutcome.Continue>().Subject.Pieces;
        secondPieces.Should().HaveCount(3).And.OnlyContain(p => p.Cid == first.Cid && p.PeerPort == 15001 && p.Path.StartsWith("/peer/file/", StringComparison.Ordinal));
        secondPieces[0].PeerIp.Should().Be(_tracker.Peers.Get(first.PeerId).Ip);
    }

    [Fact]
    public async Task ReportPieceSuccess_FromSupernode_DecrementsSuperLoad()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(client.TaskId, 1);
        var piece = ((PullOutcome.Continue)await _tracker.PullAsync(client)).Pieces.Single();
        _tracker.Progress.GetSwarm(client.TaskId)!.SuperLoad.Should().Be(1);

        _tracker.Pull.ReportPieceSuccess(client.TaskId.Value, client.Cid.Value, piece.Cid.Value, piece.Range.ToString()).Should().Be(PieceReportOutcome.Recorded);

        var swarm = _tracker.Progress.GetSwarm(client.TaskId)!;
        swarm.SuperLoad.Should().Be(0);
        swarm.Stats.PiecesFromSupernode.Should().Be(1);
        swarm.Stats.BytesFromSupernode.Should().Be(4 * 1024 * 1024);
    }

    [Fact]
    public async Task ReportPieceSuccess_UnknownDstCid_NotFound()
    {
        var client = await _tracker.RegisterAsync();

        _tracker.Pull.ReportPieceSuccess(client.TaskId.Value, client.Cid.Value, "10.1.1.1-5-5.000", Tracker.RangeOf(0))
            .Should().Be(PieceReportOutcome.NotFound);
        _tracker.Pull.ReportPieceSuccess(client.TaskId.Value, client.Cid.Value, "", Tracker.RangeOf(0))
            .Should().Be(PieceReportOutcome.InvalidInput);
        _tracker.Pull.ReportPieceSuccess(client.TaskId.Value, client.Cid.Value, SupernodeCid(client.TaskId).Value, "0-1")
            .Should().Be(PieceReportOutcome.InvalidInput);
    }

    [Fact]
    public async Task ReportPiece_BeyondTheFile_InvalidBeforeItsBitmapsGrow()
    {
        // 10 MiB from the probe in wrapped 4 MiB pieces: pieces 0-2, before the CDN has said anything.
        var client = await _tracker.RegisterAsync();
        var supernode = SupernodeCid(client.TaskId).Value;

        _tracker.Pull.ReportPieceSuccess(client.TaskId.Value, client.Cid.Value, supernode, Tracker.RangeOf(2)).Should().Be(PieceReportOutcome.Recorded);
        _tracker.Pull.ReportPieceSuccess(client.TaskId.Value, client.Cid.Value, supernode, Tracker.RangeOf(3)).Should().Be(PieceReportOutcome.InvalidInput);
        (await _tracker.PullAsync(client, "701", "501", Tracker.RangeOf(1 << 30), supernode)).Should().BeOfType<PullOutcome.Failed>()
            .Which.Reason.Should().Be(PullFailure.ParamError);
        _tracker.Progress.GetSwarm(client.TaskId)!.Clients.Single().SucceededPieces.Should().Equal(2);
    }

    [Fact]
    public async Task ReportPiece_SourceOfUnknownLength_BoundedByTheBitfieldLimit()
    {
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.Ok, -1, 200);
        var client = await _tracker.RegisterAsync();
        var supernode = SupernodeCid(client.TaskId).Value;

        _tracker.Pull.ReportPieceSuccess(client.TaskId.Value, client.Cid.Value, supernode, Tracker.RangeOf(PieceBitfield.MaxPieces - 1))
            .Should().Be(PieceReportOutcome.Recorded);
        _tracker.Pull.ReportPieceSuccess(client.TaskId.Value, client.Cid.Value, supernode, Tracker.RangeOf(PieceBitfield.MaxPieces))
            .Should().Be(PieceReportOutcome.InvalidInput, "a client must not make the tracker grow its bitmaps without bound");
    }

    [Fact]
    public async Task ReportPiece_Failed_BlacklistsUploader()
    {
        var first = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(first.TaskId, 1);
        _tracker.Pull.ReportPieceSuccess(first.TaskId.Value, first.Cid.Value, SupernodeCid(first.TaskId).Value, Tracker.RangeOf(0));
        var second = await _tracker.RegisterAsync();

        _tracker.Pull.ReportPiece(second.TaskId.Value, second.Cid.Value, first.Cid.Value, Tracker.RangeOf(0), PieceResult.Failed)
            .Should().Be(PieceReportOutcome.Recorded);

        _tracker.Progress.GetPeer(second.PeerId)!.Blacklist.Should().ContainKey(first.PeerId);
    }

    [Fact]
    public async Task ServiceDown_FirstSecondAndAfterGc()
    {
        var client = await _tracker.RegisterAsync();

        _tracker.Pull.ServiceDown(client.TaskId.Value, client.Cid.Value).Should().Be(ServiceDownOutcome.MarkedDown);
        _tracker.Pull.ServiceDown(client.TaskId.Value, client.Cid.Value).Should().Be(ServiceDownOutcome.AlreadyOffline);

        await _tracker.Gc.DeleteTaskAsync(client.TaskId, full: false, CancellationToken.None);

        // Issue #844: after task GC the report is accepted as "already gone", not a confusing failure.
        _tracker.Pull.ServiceDown(client.TaskId.Value, client.Cid.Value).Should().Be(ServiceDownOutcome.Unknown);
    }

    [Fact]
    public async Task Pull_TouchesTaskAccessTime()
    {
        var client = await _tracker.RegisterAsync();
        _tracker.Time.Advance(TimeSpan.FromMinutes(2));

        await _tracker.PullAsync(client);

        _tracker.Tasks.Get(client.TaskId).LastAccess.Should().Be(_tracker.Time.GetUtcNow());
    }
}
