using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Rates;
using Dragonfly.Dfget.Downloading;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Tests.Engine;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.Downloading;

public sealed class P2PDownloaderTests : IAsyncLifetime
{
    private const int PieceSize = 1024 * 1024;
    private readonly TempDirectory _dir = new();
    private readonly DfgetHttpClients _clients = new();
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(60));
    private PeerPieceServer _peer = null!;

    public async Task InitializeAsync() => _peer = await PeerPieceServer.StartAsync(PieceFetcherTests.MakeContent((PieceSize * 3) + 123), PieceSize);

    public async Task DisposeAsync()
    {
        await _peer.DisposeAsync();
        _clients.Dispose();
        _cts.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task RunAsync_AllPiecesAvailable_FinishesWithWholeFileAndReportsEachPiece()
    {
        var session = Session();

        var (outcome, file) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        (await File.ReadAllBytesAsync(file)).AsSpan(0, _peer.Content.Length).ToArray().Should().Equal(_peer.Content);
        session.PullReports.First().Should().Be(PullReport.Start);
        session.PullReports.First().Status.Should().Be(ClientTaskStatus.Start);
        var pieceReports = session.PullReports.Where(r => r.Range is not null).ToList();
        pieceReports.Should().HaveCount(4).And.OnlyContain(r => r.Result == ClientPieceResult.SemiSuccess && r.Status == ClientTaskStatus.Running && r.DstId == "127.0.0.1-9-1.000");
        session.SuccessReports.Select(p => p.PieceNum).Should().BeEquivalentTo(Enumerable.Range(0, 4));
    }

    [Fact]
    public async Task RunAsync_WaitOutcomes_BacksOffAndThenContinues()
    {
        var session = Session();
        session.Script.Enqueue(_ => new PullOutcome.Wait("cdn not ready"));
        session.Script.Enqueue(_ => new PullOutcome.Wait("cdn not ready"));

        var (outcome, _) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        session.PullReports.Skip(1).First().Should().Be(PullReport.Idle);
    }

    [Fact]
    public async Task RunAsync_CorruptPieceOnce_ReportsMd5ErrorAndRequeuesAsFailed()
    {
        _peer.Behaviour = (num, attempt) => num == 2 && attempt == 1 ? PieceBehaviour.Corrupt : PieceBehaviour.Good;
        var session = Session();

        var (outcome, file) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        session.ErrorReports.Should().ContainSingle().Which.Kind.Should().Be(PieceErrorKind.FileMd5NotMatch);
        session.PullReports.Should().Contain(r => r.Result == ClientPieceResult.Fail && r.Range!.Value.PieceNum == 2);
        _peer.Attempts[2].Should().Be(2);
        (await Md5Hex.OfFileAsync(file, _cts.Token)).Should().NotBeNull();
        (await File.ReadAllBytesAsync(file)).Take(_peer.Content.Length).Should().Equal(_peer.Content);
    }

    [Fact]
    public async Task RunAsync_Peer404_ReportsFileNotExist()
    {
        _peer.Behaviour = (num, attempt) => num == 0 && attempt == 1 ? PieceBehaviour.NotFound : PieceBehaviour.Good;
        var session = Session();

        var (outcome, _) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        session.ErrorReports.Should().ContainSingle().Which.Kind.Should().Be(PieceErrorKind.FileNotExist);
    }

    [Fact]
    public async Task RunAsync_PullFailsThenMigrates_ContinuesOnNewSupernode()
    {
        var session = Session();
        session.Script.Enqueue(_ => new PullOutcome.Failed(500, "cdn failed"));
        session.MigrateResult = new RegisterOutcome.Registered(session.DefaultRegistration("10.0.0.2"));

        var (outcome, _) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        session.MigrateCalls.Should().Be(1);
        session.PullReports.Count(r => r == PullReport.Start).Should().Be(2);
    }

    [Fact]
    public async Task RunAsync_MigratedToASupernodeWithAnotherPieceSize_FetchesItsPiecesInsteadOfTakingThemForDone()
    {
        // The new supernode cuts the file in 2 MiB pieces: its pieces 0 and 1 are not the 1 MiB pieces 0 and 1 on disk.
        await using var bigPieces = await PeerPieceServer.StartAsync(_peer.Content, 2 * PieceSize);
        var session = MigratingToBiggerPieces(bigPieces);

        var (outcome, file, hash) = await RunWithHashAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        _peer.Attempts.Keys.Should().BeEquivalentTo([0, 1], "the 1 MiB pieces were fetched before the migration");
        bigPieces.Attempts.Keys.Should().BeEquivalentTo([0, 1], "after it, every 2 MiB piece is fetched: none of them is on disk whole");
        session.AlreadyOnDiskReports.Should().BeEmpty("no piece of the new size was on disk");
        (await File.ReadAllBytesAsync(file)).Take(_peer.Content.Length).Should().Equal(_peer.Content);
        hash.Should().Be(Md5Hex.Of(_peer.Content));
    }

    [Fact]
    public async Task RunAsync_MigratedToASupernodeWithAnotherPieceSize_CountsTheBytesFetchedAgainAsTransferredButNotAsProgress()
    {
        await using var bigPieces = await PeerPieceServer.StartAsync(_peer.Content, 2 * PieceSize);
        var session = MigratingToBiggerPieces(bigPieces);
        var stats = new DownloadStats();
        var progress = new RecordingProgress();

        var (outcome, _, _) = await RunWithHashAsync(session, stats, progress);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        var completed = progress.Reports.Where(r => r.Kind == DownloadProgressKind.PieceCompleted).Select(r => r.CompletedBytes).ToList();
        completed.Should().HaveCount(4).And.OnlyContain(c => c <= _peer.Content.Length, "the 2 MiB piece 0 adds nothing over the 1 MiB pieces 0 and 1 on disk");
        completed.Max().Should().Be(_peer.Content.Length);
        stats.Completed.Should().Be(_peer.Content.Length);
        var bytes = stats.ToAccounting();
        var smallPiecesContent = 2L * (PieceSize - 5);
        (bytes.FromPeers + bytes.FromSupernode).Should().Be(_peer.Content.Length + smallPiecesContent, "every byte transferred counts, those fetched twice included");
        bytes.Refetched.Should().Be(smallPiecesContent, "the content of the 1 MiB pieces 0 and 1 came again in the 2 MiB piece 0");
    }

    [Fact]
    public async Task RunAsync_MigratedToASupernodeWithTheSamePieceSize_ReportsThePiecesOnDisk()
    {
        var session = Session();
        var pieces = _peer.Pieces();
        session.Script.Enqueue(_ => new PullOutcome.Continue([pieces[0], pieces[1]]));
        session.Script.Enqueue(_ => new PullOutcome.Failed(500, "supernode going away"));
        session.MigrateForgetsProgress = true;
        session.MigrateResult = new RegisterOutcome.Registered(session.DefaultRegistration("10.0.0.2"));

        var (outcome, file, hash) = await RunWithHashAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        _peer.Attempts.Values.Should().OnlyContain(attempts => attempts == 1, "pieces already on disk are reported, not fetched again");
        session.AlreadyOnDiskReports.Select(p => p.PieceNum).Should().BeEquivalentTo([0, 1]);
        hash.Should().Be(Md5Hex.Of(_peer.Content));
        (await File.ReadAllBytesAsync(file)).Take(_peer.Content.Length).Should().Equal(_peer.Content);
    }

    [Fact]
    public async Task RunAsync_PullFailsAndMigrationFails_FailsWithReason3()
    {
        var session = Session();
        session.Script.Enqueue(_ => new PullOutcome.Failed(500, "cdn failed"));

        var (outcome, _) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Failed>().Which.Reason.Should().Be(BackSourceReason.DownloadError);
        session.MigrateCalls.Should().Be(1);
        session.RejoinCalls.Should().Be(0, "a supernode that knows the download but failed it is not asked again");
        session.RecoverWindows.Should().BeEmpty("a supernode that answers with an error is not restarting");
    }

    [Fact]
    public async Task RunAsync_SupernodeForgotTheDownload_RegistersWithItAgainAndReportsThePiecesOnDisk()
    {
        var session = Session();
        session.Script.Enqueue(_ => null);
        session.Script.Enqueue(_ => new PullOutcome.Failed((int)LegacyCode.TargetNotFound, "dfget task not found"));

        var (outcome, file) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        session.RejoinCalls.Should().Be(1);
        session.MigrateCalls.Should().Be(0, "the same supernode is asked again before any other");
        session.RecoverWindows.Should().BeEmpty();
        session.PullReports.Count(r => r == PullReport.Start).Should().Be(2);
        _peer.Attempts.Values.Should().OnlyContain(attempts => attempts == 1, "pieces already on disk are reported, not fetched again");
        (await File.ReadAllBytesAsync(file)).Take(_peer.Content.Length).Should().Equal(_peer.Content);

        // The pieces fetched before the rejoin are reported to the new registration as found on disk, so the supernode
        // does not count them as served a second time; every other report says a piece was fetched.
        var held = session.AlreadyOnDiskReports.Select(p => p.PieceNum).ToList();
        held.Should().NotBeEmpty().And.OnlyHaveUniqueItems();
        session.PullReports.Where(r => r.AlreadyOnDisk).Select(r => r.Range!.Value.PieceNum).Should().BeEquivalentTo(held);
        session.SuccessReports.Count.Should().Be(_peer.Attempts.Count + held.Count, "each piece is reported once as fetched, and once more as found on disk if it was fetched before the rejoin");
    }

    [Fact]
    public async Task RunAsync_SupernodeKeepsForgettingTheDownload_RegistersAgainTwiceThenMigrates()
    {
        var session = Session();
        for (var i = 0; i <= P2PDownloader.MaxRejoins; i++)
        {
            session.Script.Enqueue(_ => new PullOutcome.Failed((int)LegacyCode.TargetNotFound, "task not found"));
        }

        var (outcome, _) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Failed>().Which.Reason.Should().Be(BackSourceReason.DownloadError);
        session.RejoinCalls.Should().Be(P2PDownloader.MaxRejoins);
        session.MigrateCalls.Should().Be(1, "after its rejoins the download moves on as after any other failure");
    }

    [Fact]
    public async Task RunAsync_SupernodeForgotTheDownloadThenStopsAnswering_WaitsForItToComeBack()
    {
        var session = Session();
        session.Script.Enqueue(_ => new PullOutcome.Failed((int)LegacyCode.TargetNotFound, "task not found"));
        session.RejoinResult = new RegisterOutcome.Failed(-100, "connection refused");
        session.RecoverResult = new RegisterOutcome.Registered(session.DefaultRegistration());

        var (outcome, _) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        session.RejoinCalls.Should().Be(1);
        session.RecoverWindows.Should().ContainSingle();
    }

    [Theory]
    [InlineData(502, false, true)]
    [InlineData(502, true, false)]
    [InlineData(404, false, false)]
    [InlineData(404, true, false)]
    [InlineData(500, false, false)]
    [InlineData(501, false, false)]
    [InlineData(607, false, false)]
    [InlineData(-100, false, false)]
    public void ForgotTheDownload_OnlyForTheSupernodesTargetNotFound(int code, bool fromHttpStatus, bool forgot) =>
        P2PDownloader.ForgotTheDownload(new PullOutcome.Failed(code, "pull failed", fromHttpStatus)).Should().Be(forgot);

    [Fact]
    public async Task RunAsync_EverySupernodeUnreachableThenOneComesBack_RegistersAgainAndFinishes()
    {
        var session = Session();
        session.Script.Enqueue(_ => new PullOutcome.Failed(-100, "connection refused"));
        session.RecoverResult = new RegisterOutcome.Registered(session.DefaultRegistration());

        var (outcome, _) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        session.MigrateCalls.Should().Be(1, "another supernode is tried first");
        session.RecoverWindows.Should().ContainSingle().Which.Should().Be(TimeSpan.FromSeconds(7));
        session.PullReports.Count(r => r == PullReport.Start).Should().Be(2);
    }

    [Fact]
    public async Task RunAsync_EverySupernodeUnreachableAndNoneComesBack_FailsWithReason3()
    {
        var session = Session();
        session.Script.Enqueue(_ => new PullOutcome.Failed(-100, "connection refused"));

        var (outcome, _) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Failed>().Which.Reason.Should().Be(BackSourceReason.DownloadError);
        session.RecoverWindows.Should().ContainSingle();
    }

    [Fact]
    public async Task RunAsync_SupernodeRegistersButNeverAnswersAPull_GivesUpAfterFruitlessRecoveries()
    {
        var session = Session();
        for (var i = 0; i < 20; i++)
        {
            session.Script.Enqueue(_ => new PullOutcome.Failed(-100, "the request timed out"));
        }

        session.RecoverResult = new RegisterOutcome.Registered(session.DefaultRegistration());

        var (outcome, _) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Failed>().Which.Reason.Should().Be(BackSourceReason.DownloadError, "P2P ends so that the download can go back to the origin");
        session.RecoverWindows.Should().HaveCount(P2PDownloader.MaxFruitlessRecoveries + 1, "the first recovery, then the fruitless ones allowed");
    }

    [Fact]
    public async Task RunAsync_RecoveriesWithPiecesCompletedBetweenThem_KeepGoing()
    {
        var session = Session();
        session.Script.Enqueue(_ => new PullOutcome.Failed(-100, "the request timed out"));
        session.Script.Enqueue(_ => null);
        for (var i = 0; i < P2PDownloader.MaxFruitlessRecoveries + 1; i++)
        {
            session.Script.Enqueue(_ => new PullOutcome.Failed(-100, "the request timed out"));
        }

        session.RecoverResult = new RegisterOutcome.Registered(session.DefaultRegistration());

        var (outcome, _) = await RunAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>("a piece completed after the first recovery, so the count starts again");
        session.RecoverWindows.Should().HaveCount(P2PDownloader.MaxFruitlessRecoveries + 2);
    }

    [Fact]
    public async Task RunAsync_PiecesCompleteOutOfOrder_HashesTheWholeFile()
    {
        _peer.Delay = num => num == 0 ? TimeSpan.FromMilliseconds(300) : TimeSpan.Zero;
        var session = Session();

        var (outcome, file, hash) = await RunWithHashAsync(session);

        outcome.Should().BeOfType<P2POutcome.Finished>();
        hash.Should().Be(Md5Hex.Of(_peer.Content));
    }

    /// <summary>
    /// A session that hands out the 1 MiB pieces 0 and 1, then fails, and migrates to a supernode that cuts the file in
    /// the 2 MiB pieces of <paramref name="bigPieces"/> and knows none of them done.
    /// </summary>
    private ScriptedSupernodeSession MigratingToBiggerPieces(PeerPieceServer bigPieces)
    {
        var session = Session();
        var small = _peer.Pieces();
        session.Script.Enqueue(_ => new PullOutcome.Continue([small[0], small[1]]));
        session.Script.Enqueue(_ =>
        {
            session.Pieces = bigPieces.Pieces();
            return new PullOutcome.Failed(500, "supernode going away");
        });
        session.MigrateForgetsProgress = true;
        session.FinishedFileLength = Dragonfly.Common.Pieces.PieceLayout.WrappedLength(_peer.Content.Length, 2 * PieceSize);
        session.MigrateResult = new RegisterOutcome.Registered(session.DefaultRegistration("10.0.0.2") with { PieceSize = 2 * PieceSize });
        return session;
    }

    private ScriptedSupernodeSession Session()
    {
        var session = new ScriptedSupernodeSession(_peer.Pieces(), Md5Hex.Of(_peer.Content), _peer.Content.Length, PieceSize);
        session.RegisterAsync(CancellationToken.None).GetAwaiter().GetResult();
        return session;
    }

    private async Task<(P2POutcome Outcome, string File)> RunAsync(ScriptedSupernodeSession session)
    {
        var (outcome, path, _) = await RunWithHashAsync(session);
        return (outcome, path);
    }

    private async Task<(P2POutcome Outcome, string File, string Hash)> RunWithHashAsync(
        ScriptedSupernodeSession session, DownloadStats? stats = null, IProgress<DownloadProgress>? progress = null)
    {
        var path = _dir.Combine(Guid.NewGuid().ToString("N") + ".service");
        using var file = PieceFile.Create(path);
        using var hasher = new OrderedFileHasher(file, new Md5Batcher());
        using var limiter = new DownloadRateLimiter(Rate.Zero);
        var downloader = new P2PDownloader(new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher()), TimeProvider.System, NullLogger<P2PDownloader>.Instance);
        var context = new P2PContext(session, file, hasher, _peer.Content.Length, new Rate(64 * 1024), limiter, new Random(1), 6, stats ?? new DownloadStats(), progress, SupernodeRecovery: TimeSpan.FromSeconds(7));
        var outcome = await downloader.RunAsync(context, _cts.Token);
        var hash = outcome is P2POutcome.Finished ? await hasher.FinishAsync(_peer.Content.Length, _cts.Token) : string.Empty;
        return (outcome, path, hash);
    }

    private sealed class RecordingProgress : IProgress<DownloadProgress>
    {
        public System.Collections.Concurrent.ConcurrentQueue<DownloadProgress> Reports { get; } = new();

        public void Report(DownloadProgress value) => Reports.Enqueue(value);
    }
}
