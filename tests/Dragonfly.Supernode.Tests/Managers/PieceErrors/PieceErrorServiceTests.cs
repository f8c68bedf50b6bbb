using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.PieceErrors;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Tests.Managers.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Supernode.Tests.Managers.PieceErrors;

public sealed class PieceErrorServiceTests : IDisposable
{
    private readonly Tracker _tracker = new();
    private readonly PieceErrorService _service;

    public PieceErrorServiceTests() =>
        _service = new PieceErrorService(_tracker.Tasks, _tracker.Cdn, _tracker.Gc, _tracker.Options, _tracker.Time, NullLogger<PieceErrorService>.Instance);

    public void Dispose()
    {
        _service.Dispose();
        _tracker.Dispose();
    }

    private static PieceErrorReport Report(RegistrationResult client, string? dstCid = null, string type = "FILE_MD5_NOT_MATCH", int piece = 1) =>
        new(client.TaskId.Value, Tracker.RangeOf(piece), client.Cid.Value, dstCid ?? Cid.ForSupernode("10.0.0.1", client.TaskId).Value, "10.0.0.9",
            "aaaa", "bbbb", type);

    [Fact]
    public async Task TryEnqueue_UploaderNotSupernode_Ignored()
    {
        var client = await _tracker.RegisterAsync();

        _service.TryEnqueue(Report(client, dstCid: "192.168.0.50-1-1.000")).Should().BeFalse();
    }

    [Theory]
    [InlineData("SOMETHING_ELSE")]
    [InlineData("")]
    public async Task TryEnqueue_UnknownErrorType_Ignored(string type)
    {
        var client = await _tracker.RegisterAsync();

        _service.TryEnqueue(Report(client, type: type)).Should().BeFalse();
    }

    [Fact]
    public async Task TryEnqueue_BadRangeOrUnknownTask_Ignored()
    {
        var client = await _tracker.RegisterAsync();

        _service.TryEnqueue(Report(client) with { Range = "0-10" }).Should().BeFalse();
        _service.TryEnqueue(Report(client) with { TaskId = new string('f', 64) }).Should().BeFalse();
        _service.TryEnqueue(Report(client) with { TaskId = "../../x" }).Should().BeFalse();
    }

    [Fact]
    public async Task TryEnqueue_PieceAtOrBeyondTheTasksPieceCount_Ignored()
    {
        // 10 MiB in 4 MiB pieces (4 MiB − 5 bytes of content each): pieces 0..2.
        var client = await _tracker.RegisterAsync();

        _service.TryEnqueue(Report(client, piece: 100)).Should().BeFalse();
        _service.TryEnqueue(Report(client) with { Range = "419430400-423624703" }).Should().BeFalse();
        _service.TryEnqueue(Report(client, piece: 3)).Should().BeFalse();
        _service.TryEnqueue(Report(client, piece: 2)).Should().BeTrue();
    }

    [Fact]
    public async Task TryEnqueue_LastPieceBeyondTheRegisterTimeEstimate_Accepted()
    {
        // 8 MiB of source needs 3 wrapped pieces, although the register-time estimate (8 MiB / 4 MiB) says 2.
        _tracker.Origin.Probe = _ => new Supernode.Origin.OriginProbe(Supernode.Origin.OriginProbeStatus.Ok, 8 * Tracker.MiB, 200);
        var client = await _tracker.RegisterAsync();

        _service.TryEnqueue(Report(client, piece: 3)).Should().BeFalse();
        _service.TryEnqueue(Report(client, piece: 2)).Should().BeTrue();
    }

    [Fact]
    public async Task TryEnqueue_AfterCdnSuccess_UsesTheRealPieceCount()
    {
        var client = await _tracker.RegisterAsync();
        await _tracker.CdnSuccessAsync(client.TaskId, pieces: 2);

        _service.TryEnqueue(Report(client, piece: 2)).Should().BeFalse();
        _service.TryEnqueue(Report(client, piece: 1)).Should().BeTrue();
    }

    [Fact]
    public async Task TryEnqueue_UnknownLength_LeavesTheCheckToTheCdn()
    {
        _tracker.Origin.Probe = _ => new Supernode.Origin.OriginProbe(Supernode.Origin.OriginProbeStatus.Ok, -1, 200);
        var client = await _tracker.RegisterAsync();

        _service.TryEnqueue(Report(client, piece: 100)).Should().BeTrue();
    }

    [Theory]
    [InlineData(CdnPieceCheck.Unknown)]
    [InlineData(CdnPieceCheck.Good)]
    public async Task Handle_PieceNotBad_KeepsTheTaskAndItsFiles(CdnPieceCheck check)
    {
        var client = await _tracker.RegisterAsync();
        _tracker.Cdn.VerifyResult = check;
        _service.TryEnqueue(Report(client, piece: 2)).Should().BeTrue();

        (await _service.HandleAsync(new PieceErrorWork(client.TaskId, 2, PieceErrorKind.FileNotExist, "bbbb"), CancellationToken.None)).Should().Be(check);

        _tracker.Cdn.Deletes.Should().BeEmpty();
        _tracker.Tasks.TryGet(client.TaskId, out _).Should().BeTrue();
    }

    [Fact]
    public async Task TryEnqueue_SecondForSameTaskWhileQueued_Ignored()
    {
        var client = await _tracker.RegisterAsync();

        _service.TryEnqueue(Report(client)).Should().BeTrue();
        _service.TryEnqueue(Report(client, type: "FILE_NOT_EXIST")).Should().BeFalse();
    }

    [Fact]
    public async Task Worker_BadCdnCopy_CollectsTaskWithFiles()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var client = await _tracker.RegisterAsync();
        _tracker.Cdn.VerifyResult = CdnPieceCheck.Bad;
        var handled = new TaskCompletionSource<CdnPieceCheck>(TaskCreationOptions.RunContinuationsAsynchronously);
        _service.Handled += (_, good) => handled.TrySetResult(good);
        await _service.StartAsync(cts.Token);

        _service.TryEnqueue(Report(client, type: "FILE_NOT_EXIST", piece: 2)).Should().BeTrue();

        (await handled.Task.WaitAsync(cts.Token)).Should().Be(CdnPieceCheck.Bad);
        _tracker.Cdn.Verifications.Should().Equal((client.TaskId, 2));
        _tracker.Cdn.Deletes.Should().Contain((client.TaskId, true));
        _tracker.Tasks.TryGet(client.TaskId, out _).Should().BeFalse();
        await _service.StopAsync(cts.Token);
    }

    [Fact]
    public async Task Handle_GoodCdnCopy_KeepsTaskAndCoolsDown3s()
    {
        var client = await _tracker.RegisterAsync();
        _service.TryEnqueue(Report(client)).Should().BeTrue();

        (await _service.HandleAsync(new PieceErrorWork(client.TaskId, 1, PieceErrorKind.FileMd5NotMatch, "bbbb"), CancellationToken.None)).Should().Be(CdnPieceCheck.Good);

        _tracker.Tasks.TryGet(client.TaskId, out _).Should().BeTrue();
        _tracker.Cdn.Deletes.Should().BeEmpty();
        _service.TryEnqueue(Report(client)).Should().BeFalse("the task is cooling down");
        _tracker.Time.Advance(TimeSpan.FromSeconds(3));
        _service.TryEnqueue(Report(client)).Should().BeTrue();
    }

    [Fact]
    public async Task Handle_TasksPastTheirCoolDown_AreForgotten()
    {
        var a = await _tracker.RegisterAsync(_tracker.Request(url: "http://h/a"));
        var b = await _tracker.RegisterAsync(_tracker.Request(url: "http://h/b"));
        _service.TryEnqueue(Report(a)).Should().BeTrue();
        await _service.HandleAsync(new PieceErrorWork(a.TaskId, 1, PieceErrorKind.FileMd5NotMatch, "bbbb"), CancellationToken.None);
        _service.TrackedTasks.Should().Be(1);

        _tracker.Time.Advance(TimeSpan.FromSeconds(4));
        _service.TryEnqueue(Report(b)).Should().BeTrue();
        await _service.HandleAsync(new PieceErrorWork(b.TaskId, 1, PieceErrorKind.FileMd5NotMatch, "bbbb"), CancellationToken.None);

        _service.TrackedTasks.Should().Be(1, "task a cooled down long ago and is no longer tracked; b is cooling down");
        _service.TryEnqueue(Report(a)).Should().BeTrue("a forgotten task takes reports again");
        _service.TryEnqueue(Report(b)).Should().BeFalse("b is still cooling down");
    }

    [Fact]
    public async Task TryEnqueue_QueueFull_ReturnsFalse()
    {
        using var tracker = new Tracker(new Supernode.Managers.TrackerOptions { AdvertiseIp = "10.0.0.1", PieceErrorQueueCapacity = 1 });
        using var service = new PieceErrorService(tracker.Tasks, tracker.Cdn, tracker.Gc, tracker.Options, tracker.Time, NullLogger<PieceErrorService>.Instance);
        var a = await tracker.RegisterAsync(tracker.Request(url: "http://h/a"));
        var b = await tracker.RegisterAsync(tracker.Request(url: "http://h/b"));

        service.TryEnqueue(Report(a)).Should().BeTrue();
        service.TryEnqueue(Report(b)).Should().BeFalse();
    }
}
