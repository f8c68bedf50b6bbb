using Dragonfly.Common.Errors;
using Dragonfly.Common.Identity;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.Tasks;
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Tests.Managers.Support;

namespace Dragonfly.Supernode.Tests.Managers.Tasks;

public sealed class TaskMgrTests : IDisposable
{
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();
    private readonly Tracker _tracker = new();

    private TaskMgr Tasks => _tracker.Tasks;

    public void Dispose() => _tracker.Dispose();

    private static TaskSpec Spec(string url = Tracker.SourceUrl, string? md5 = null, string? identifier = null, IReadOnlyDictionary<string, string>? headers = null) =>
        new(url, url, md5, identifier, headers ?? NoHeaders);

    private Task<TaskRegistrationResult> CreateAsync(TaskSpec spec) => Tasks.GetOrCreateAsync(spec, CancellationToken.None);

    [Fact]
    public async Task GetOrCreate_NewTask_ProbesAndSizes()
    {
        var result = await CreateAsync(Spec());

        result.Created.Should().BeTrue();
        result.ShouldTriggerCdn.Should().BeTrue();
        result.Task.Id.Value.Should().Be("6dafc821ffe8bf28cc58d1507e9bf0a52893bbf07ccd288458225f43246f38f9");
        result.Task.HttpFileLength.Should().Be(10 * 1024 * 1024);
        result.Task.PieceSize.Should().Be(4 * 1024 * 1024);
        result.Task.PieceTotal.Should().Be(3);
        result.Task.FileLength.Should().Be(-1);
        result.Task.CdnStatus.Should().Be(CdnStatus.Running);
        _tracker.Origin.ProbeCount.Should().Be(1);
    }

    [Fact]
    public async Task GetOrCreate_SameUrlTwice_ReusesTaskWithoutProbeOrTrigger()
    {
        var first = await CreateAsync(Spec());

        var second = await CreateAsync(Spec());

        second.Task.Id.Should().Be(first.Task.Id);
        second.Created.Should().BeFalse();
        second.ShouldTriggerCdn.Should().BeFalse();
        _tracker.Origin.ProbeCount.Should().Be(1);
    }

    [Fact]
    public async Task GetOrCreate_WhileTheTaskIsBeingRemoved_WaitsForTheCleanUpThenCreatesItAfresh()
    {
        var first = await CreateAsync(Spec());
        var cleanUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var removal = Tasks.RemoveAsync(first.Task.Id, () => cleanUp.Task);

        var again = CreateAsync(Spec());
        await Task.Delay(100);
        again.IsCompleted.Should().BeFalse("the task cannot be created again while its CDN files are still being removed");

        cleanUp.SetResult();
        (await removal).Should().BeTrue();
        var recreated = await again;
        recreated.Created.Should().BeTrue();
        recreated.ShouldTriggerCdn.Should().BeTrue("the new task gets a CDN run of its own");
        recreated.Task.Id.Should().Be(first.Task.Id);
    }

    [Fact]
    public async Task RemoveAsync_TwoRemovalsOfOneTask_RunTheirCleanUpsOneAfterTheOther()
    {
        var first = await CreateAsync(Spec());
        var firstCleanUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondStarted = false;
        var one = Tasks.RemoveAsync(first.Task.Id, () => firstCleanUp.Task);
        var two = Tasks.RemoveAsync(first.Task.Id, () =>
        {
            secondStarted = true;
            return Task.CompletedTask;
        });

        await Task.Delay(50);
        secondStarted.Should().BeFalse();
        firstCleanUp.SetResult();

        (await one).Should().BeTrue();
        (await two).Should().BeFalse("the first removal already forgot the task");
        secondStarted.Should().BeTrue();
        (await CreateAsync(Spec())).Created.Should().BeTrue();
    }

    [Fact]
    public async Task GetOrCreate_LargeSource_UsesBiggerPieces()
    {
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.Ok, 1024L * 1024 * 1024, 200);

        var result = await CreateAsync(Spec());

        result.Task.PieceSize.Should().Be(12 * 1024 * 1024);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(403)]
    public async Task GetOrCreate_OtherStatus_LengthUnknown(int status)
    {
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.Ok, 123, status);

        var result = await CreateAsync(Spec());

        result.Task.HttpFileLength.Should().Be(-1);
        result.Task.PieceTotal.Should().Be(-1);
        result.Task.PieceSize.Should().Be(4 * 1024 * 1024);
    }

    [Fact]
    public async Task GetOrCreate_ConnectionError_LengthUnknownAndTaskCreated()
    {
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.Unreachable, -1, 0, "refused");

        var result = await CreateAsync(Spec());

        result.Created.Should().BeTrue();
        result.Task.HttpFileLength.Should().Be(-1);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(407)]
    public async Task GetOrCreate_AuthRequired_ThrowsAndLeavesNoTask(int status)
    {
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.AuthenticationRequired, -1, status);

        var act = () => CreateAsync(Spec());

        (await act.Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.AuthenticationRequired);
        Tasks.List().Should().BeEmpty();
    }

    [Fact]
    public async Task GetOrCreate_AddressNotAllowed_ThrowsWithThePolicyMessageLeavesNoTaskAndRemembersNothing()
    {
        const string Refusal = "source address 10.0.0.1 is not allowed by the supernode's source address policy (sourceAllow/sourceDeny)";
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.AddressNotAllowed, -1, 0, Refusal);

        var thrown = (await FluentActions.Awaiting(() => CreateAsync(Spec())).Should().ThrowAsync<DragonflyException>()).Which;

        thrown.Code.Should().Be(ErrorCode.UrlNotReachable);
        thrown.Detail.Should().Be($"url {Tracker.SourceUrl}: {Refusal}");
        Tasks.List().Should().BeEmpty();

        // Not remembered like a 404: the next registration asks again (the policy answers it before any byte is sent).
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.Ok, 5, 200);
        (await CreateAsync(Spec())).Created.Should().BeTrue();
        _tracker.Origin.ProbeCount.Should().Be(2);
    }

    [Fact]
    public async Task GetOrCreate_NotFound_RemembersUnreachableForFailAccessInterval()
    {
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.NotFound, -1, 404);

        (await FluentActions.Awaiting(() => CreateAsync(Spec())).Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.UrlNotReachable);
        _tracker.Time.Advance(TimeSpan.FromMinutes(2));
        (await FluentActions.Awaiting(() => CreateAsync(Spec())).Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.UrlNotReachable);
        _tracker.Origin.ProbeCount.Should().Be(1, "the second registration fails fast from the memo");
        Tasks.List().Should().BeEmpty();

        _tracker.Time.Advance(TimeSpan.FromMinutes(1));
        _tracker.Origin.Probe = _ => new OriginProbe(OriginProbeStatus.Ok, 5, 200);
        var result = await CreateAsync(Spec());

        result.Created.Should().BeTrue();
        _tracker.Origin.ProbeCount.Should().Be(2);
    }

    [Fact]
    public async Task GetOrCreate_RangeHeader_ChangesTaskId()
    {
        var plain = await CreateAsync(Spec());
        var ranged = await CreateAsync(Spec(headers: new Dictionary<string, string> { ["Range"] = "bytes=0-99" }));
        var otherHeader = await CreateAsync(Spec(headers: new Dictionary<string, string> { ["X-Token"] = "abc" }));

        ranged.Task.Id.Should().NotBe(plain.Task.Id);
        ranged.Task.Id.Should().Be(TaskIdentity.ComputeTaskId(Tracker.SourceUrl, null, null, "bytes=0-99"));
        otherHeader.Task.Id.Should().Be(plain.Task.Id);
    }

    [Theory]
    [InlineData("range")]
    [InlineData("RANGE")]
    public async Task GetOrCreate_RangeHeaderInAnyCase_ChangesTaskIdLikeRange(string name)
    {
        // The origin gets "range: bytes=0-9" as a Range header, so its 10-byte answer must not be cached as the whole file.
        var plain = await CreateAsync(Spec());
        var ranged = await CreateAsync(Spec(headers: new Dictionary<string, string>(StringComparer.Ordinal) { [name] = "bytes=0-9" }));

        ranged.Task.Id.Should().NotBe(plain.Task.Id);
        ranged.Task.Id.Should().Be(TaskIdentity.ComputeTaskId(Tracker.SourceUrl, null, null, "bytes=0-9"));
    }

    [Fact]
    public async Task GetOrCreate_SameIdDifferentTaskUrl_Conflicts()
    {
        // KEY + "http://h/ab" + "" + KEY == KEY + "http://h/a" + "b" + KEY.
        await CreateAsync(Spec("http://h/ab"));

        var act = () => CreateAsync(Spec("http://h/a", identifier: "b"));

        (await act.Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.TaskIdConflict);
    }

    [Fact]
    public async Task GetOrCreate_StoredMd5DiffersFromRequest_Conflicts()
    {
        var md5 = "0123456789abcdef0123456789abcdef";
        await CreateAsync(Spec(md5: md5));

        // No md5 but the same string as identifier gives the same id.
        var act = () => CreateAsync(Spec(identifier: md5));

        (await act.Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.TaskIdConflict);
    }

    [Fact]
    public async Task GetOrCreate_DifferentIdentifier_Conflicts()
    {
        await CreateAsync(Spec(identifier: "abc"));

        var act = () => CreateAsync(Spec(md5: "abc", identifier: "zzz"));

        (await act.Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.TaskIdConflict);
    }

    [Fact]
    public async Task GetOrCreate_BadUrl_ThrowsInvalid()
    {
        var act = () => CreateAsync(Spec("notaurl"));

        (await act.Should().ThrowAsync<DragonflyException>()).Which.Code.Should().Be(ErrorCode.InvalidValue);
        _tracker.Origin.ProbeCount.Should().Be(0);
    }

    [Fact]
    public async Task CompleteCdn_Success_SetsWrappedLengthMd5AndRealPieceTotal()
    {
        var task = (await CreateAsync(Spec())).Task;

        Tasks.CompleteCdn(task.Id, new CdnResult(true, 10485775, 10485760, "f56e", false)).Should().BeTrue();

        var done = Tasks.Get(task.Id);
        done.CdnStatus.Should().Be(CdnStatus.Success);
        done.FileLength.Should().Be(10485775);
        done.HttpFileLength.Should().Be(10485760);
        done.PieceTotal.Should().Be(3);
        done.RealMd5.Should().Be("f56e");
    }

    [Fact]
    public async Task CompleteCdn_EmptyFile_OnePiece()
    {
        var task = (await CreateAsync(Spec())).Task;

        Tasks.CompleteCdn(task.Id, new CdnResult(true, 5, 0, "d41d8cd98f00b204e9800998ecf8427e", false));

        Tasks.Get(task.Id).PieceTotal.Should().Be(1);
    }

    [Fact]
    public async Task TryStartCdn_AfterFailure_AllowsOneRetrigger()
    {
        var task = (await CreateAsync(Spec())).Task;
        Tasks.TryStartCdn(task.Id).Should().BeFalse("it is already running");

        Tasks.CompleteCdn(task.Id, new CdnResult(false, -1, -1, null, false, "boom"));
        Tasks.Get(task.Id).CdnStatus.Should().Be(CdnStatus.Failed);

        (await CreateAsync(Spec())).ShouldTriggerCdn.Should().BeTrue();
        (await CreateAsync(Spec())).ShouldTriggerCdn.Should().BeFalse();
    }

    [Fact]
    public async Task ListIdleSince_TouchedTask_IsNotIdle()
    {
        var a = (await CreateAsync(Spec("http://h/a"))).Task;
        var b = (await CreateAsync(Spec("http://h/b"))).Task;
        _tracker.Time.Advance(TimeSpan.FromMinutes(3));
        Tasks.Touch(b.Id).Should().BeTrue();

        Tasks.ListIdleSince(_tracker.Time.GetUtcNow() - TimeSpan.FromMinutes(3)).Should().Equal(a.Id);
    }

    [Fact]
    public void Get_Unknown_ThrowsDataNotFound()
    {
        var act = () => Tasks.Get(TaskIdentity.ComputeTaskId("http://x/y", null, null));

        act.Should().Throw<DragonflyException>().Which.Code.Should().Be(ErrorCode.DataNotFound);
    }
}
