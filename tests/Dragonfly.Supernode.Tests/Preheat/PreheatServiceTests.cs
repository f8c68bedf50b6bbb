using System.Collections.Concurrent;
using System.Text;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Hosting;
using Dragonfly.Supernode.Managers.Gc;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Managers.Tasks;
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Preheat;
using Dragonfly.Supernode.Tests.Managers.Support;
using Dragonfly.TestCommon;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Supernode.Tests.Preheat;

/// <summary>
/// Image preheats over the real tracker managers with a CDN the test finishes by hand (so a layer stays RUNNING until the
/// test says), manifests from a real loopback server, and a count of the registrations each layer URL caused.
/// </summary>
public sealed class PreheatServiceTests : IAsyncLifetime
{
    private const string Repo = "/v2/library/shared";
    private readonly Tracker _tracker = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly FakeHostLifetime _lifetime = new();
    private OriginServer _registry = null!;
    private CountingRegistration _registrations = null!;
    private ServiceProvider _services = null!;
    private PreheatService _preheats = null!;
    private bool _stopped;

    public async Task InitializeAsync()
    {
        _registry = await OriginServer.StartAsync(_timeout.Token);
        _registrations = new CountingRegistration(_tracker.Registration);
        _services = new ServiceCollection()
            .AddSingleton<IRegistrationService>(_registrations)
            .AddSingleton<ITaskMgr>(_tracker.Tasks)
            .AddSingleton<IGcMgr>(_tracker.Gc)
            .BuildServiceProvider();
        _preheats = NewService();
    }

    public async Task DisposeAsync()
    {
        if (!_stopped)
        {
            _preheats.Dispose();
        }

        await _services.DisposeAsync();
        await _registry.DisposeAsync();
        _tracker.Dispose();
        _timeout.Dispose();
        _lifetime.Dispose();
    }

    [Fact]
    public async Task Create_TwoImagesSharingALayerWhileItRuns_TheLayerIsPreheatedOnceForBoth()
    {
        var shared = Digest('s');
        var first = Image("one", shared, Digest('a'));
        var second = Image("two", shared, Digest('b'));

        var one = _preheats.Create(Request(first));
        await UntilAsync(() => _registrations.For(Blob(shared)) == 1 && _registrations.For(Blob(Digest('a'))) == 1);
        var two = _preheats.Create(Request(second));
        await UntilAsync(() => _registrations.For(Blob(Digest('b'))) == 1);
        await Task.Delay(200, _timeout.Token);

        _registrations.For(Blob(shared)).Should().Be(1, "the second image waits for the run the first one started");
        ChildStatus(shared).Should().Be(PreheatStatus.Running);

        await FinishCdnAsync(shared, Digest('a'), Digest('b'));

        (await FinishedAsync(one)).Status.Should().Be(PreheatStatus.Success);
        (await FinishedAsync(two)).Status.Should().Be(PreheatStatus.Success);
        _registrations.For(Blob(shared)).Should().Be(1);
    }

    [Fact]
    public async Task Create_ImageSharingALayerThatSucceeded_ReusesItWithoutRegisteringAgain()
    {
        var shared = Digest('s');
        var one = _preheats.Create(Request(Image("one", shared)));
        await UntilAsync(() => _registrations.For(Blob(shared)) == 1);
        await FinishCdnAsync(shared);
        (await FinishedAsync(one)).Status.Should().Be(PreheatStatus.Success);

        var two = _preheats.Create(Request(Image("two", shared, Digest('b'))));
        await UntilAsync(() => _registrations.For(Blob(Digest('b'))) == 1);
        await FinishCdnAsync(Digest('b'));

        (await FinishedAsync(two)).Status.Should().Be(PreheatStatus.Success);
        _registrations.For(Blob(shared)).Should().Be(1);
    }

    [Fact]
    public async Task Create_ImageSharingALayerThatFailed_RunsTheLayerAgain()
    {
        var shared = Digest('s');
        var one = _preheats.Create(Request(Image("one", shared)));
        await UntilAsync(() => _registrations.For(Blob(shared)) == 1);
        await _tracker.Observer.OnCompletedAsync(_registrations.TaskOf(Blob(shared)), new Supernode.Managers.Cdn.CdnResult(false, -1, -1, null, false, "source broke"), CancellationToken.None);
        (await FinishedAsync(one)).Status.Should().Be(PreheatStatus.Failed);
        ChildStatus(shared).Should().Be(PreheatStatus.Failed);

        var two = _preheats.Create(Request(Image("two", shared)));
        await UntilAsync(() => _registrations.For(Blob(shared)) == 2);
        await FinishCdnAsync(shared);

        (await FinishedAsync(two)).Status.Should().Be(PreheatStatus.Success);
        ChildStatus(shared).Should().Be(PreheatStatus.Success);
    }

    [Fact]
    public async Task Dispose_WhileChildrenRunAndWait_EveryChildEndsFailedWithTheReason()
    {
        _preheats.Dispose();
        _preheats = NewService(maxConcurrentChildren: 1);
        var layers = new[] { Digest('a'), Digest('b') };
        var parent = _preheats.Create(Request(Image("one", layers)));
        await UntilAsync(() => _registrations.For(Blob(layers[0])) + _registrations.For(Blob(layers[1])) == 1);
        layers.Select(ChildStatus).Should().BeEquivalentTo([PreheatStatus.Running, PreheatStatus.Waiting]);

        _preheats.Dispose();
        _stopped = true;

        await UntilAsync(() => layers.All(l => ChildStatus(l) == PreheatStatus.Failed) && _preheats.Get(parent)!.Status == PreheatStatus.Failed);
        layers.Select(l => _preheats.Get(ChildId(l))!.ErrorMsg).Should().AllBe("supernode stopping");
        _preheats.Get(parent)!.ErrorMsg.Should().Be("supernode stopping");
    }

    [Fact]
    public void Create_AfterDispose_Refuses503SupernodeStoppingAndKeepsNoRecord()
    {
        _preheats.Dispose();
        _stopped = true;

        var refused = () => _preheats.Create(new PreheatCreateRequest { Type = PreheatType.File, Url = _registry.Url("/file.bin").ToString() });

        refused.Should().Throw<Dragonfly.Supernode.Api.ApiException>()
            .Where(e => e.StatusCode == 503 && e.Message == "supernode stopping");
        _preheats.List().Should().BeEmpty();
    }

    /// <summary>
    /// The host's stopping begins before Kestrel drains its requests and long before the service is disposed: from then on
    /// a create is refused, and what runs ends FAILED with the reason.
    /// </summary>
    [Fact]
    public async Task Create_AfterTheHostBeganToStop_Refuses503AndRunsEndFailed()
    {
        var layer = Digest('h');
        var running = _preheats.Create(Request(Image("stopping", layer)));
        await UntilAsync(() => _registrations.For(Blob(layer)) == 1);

        _lifetime.StopApplication();

        var refused = () => _preheats.Create(new PreheatCreateRequest { Type = PreheatType.File, Url = _registry.Url("/late.bin").ToString() });
        refused.Should().Throw<Dragonfly.Supernode.Api.ApiException>()
            .Where(e => e.StatusCode == 503 && e.Message == "supernode stopping");
        (await FinishedAsync(running)).ErrorMsg.Should().Be("supernode stopping");
        _preheats.List().Should().NotContain(p => p.Url == _registry.Url("/late.bin").ToString());
    }

    [Fact]
    public void Create_ServiceMadeAfterTheHostBeganToStop_Refuses503()
    {
        _lifetime.StopApplication();
        using var late = NewService();

        var refused = () => late.Create(new PreheatCreateRequest { Type = PreheatType.File, Url = _registry.Url("/late.bin").ToString() });

        refused.Should().Throw<Dragonfly.Supernode.Api.ApiException>().Where(e => e.StatusCode == 503);
    }

    [Fact]
    public void Dispose_Twice_SecondCallDoesNothing()
    {
        _preheats.Dispose();
        _stopped = true;

        _preheats.Invoking(p => p.Dispose()).Should().NotThrow();
    }

    /// <summary>
    /// A stop right after a create: the run may not have begun when the stop cancels it. It must still end FAILED with the
    /// reason (a run handed to <c>Task.Run</c> with the stop's token never began once the token was cancelled, and its
    /// record stayed WAITING). Many services, each stopped right after its create, so some stops win the race.
    /// </summary>
    [Fact]
    public async Task Dispose_RightAfterCreate_TheRunEndsFailedNeverStaysWaiting()
    {
        _registry.AddFile("/race.bin", 1000, seed: 3);
        var url = _registry.Url("/race.bin").ToString();
        var services = Enumerable.Range(0, 200).Select(_ => NewService()).ToList();
        var ids = new List<string>();
        foreach (var service in services)
        {
            ids.Add(service.Create(new PreheatCreateRequest { Type = PreheatType.File, Url = url }));
            service.Dispose();
        }

        using var settle = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!settle.IsCancellationRequested && services.Zip(ids).Any(p => p.First.Get(p.Second)!.Status is PreheatStatus.Waiting or PreheatStatus.Running))
        {
            await Task.Delay(20);
        }

        var infos = services.Zip(ids).Select(p => p.First.Get(p.Second)!).ToList();
        infos.Should().OnlyContain(i => i.Status == PreheatStatus.Failed || i.Status == PreheatStatus.Success, "a stopped preheat never stays WAITING");
        infos.Where(i => i.Status == PreheatStatus.Failed).Should().OnlyContain(i => i.ErrorMsg == "supernode stopping");
    }

    private PreheatService NewService(int maxConcurrentChildren = 4) =>
        new(_services, new SupernodeRuntime("10.0.0.1", 8002, 8001), new SourceConnector(SourceAddressPolicy.AllowAll, NullLogger<SourceConnector>.Instance),
            TimeProvider.System, _lifetime, NullLogger<PreheatService>.Instance)
        {
            PollInterval = TimeSpan.FromMilliseconds(10),
            MaxConcurrentChildren = maxConcurrentChildren,
        };

    private static string Digest(char c) => "sha256:" + new string(c, 64);

    private string Blob(string digest) => _registry.Url($"{Repo}/blobs/{digest}").ToString();

    private string ChildId(string digest) => PreheatService.IdOf(Blob(digest), null, null, new Dictionary<string, string>());

    private PreheatStatus? ChildStatus(string digest) => _preheats.Get(ChildId(digest))?.Status;

    private string Image(string tag, params string[] layers)
    {
        var list = string.Join(',', layers.Select(d => $$"""{"digest":"{{d}}"}"""));
        _registry.AddFile($"{Repo}/manifests/{tag}", Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"layers":[{{list}}]}"""));
        return _registry.Url($"{Repo}/manifests/{tag}").ToString();
    }

    private static PreheatCreateRequest Request(string url) => new() { Type = PreheatType.Image, Url = url };

    private async Task FinishCdnAsync(params string[] digests)
    {
        foreach (var digest in digests)
        {
            await _tracker.CdnSuccessAsync(_registrations.TaskOf(Blob(digest)), 1);
        }
    }

    private async Task<PreheatInfo> FinishedAsync(string id)
    {
        await UntilAsync(() => _preheats.Get(id)?.Status is PreheatStatus.Success or PreheatStatus.Failed);
        return _preheats.Get(id)!;
    }

    private async Task UntilAsync(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(10, _timeout.Token);
        }
    }

    /// <summary>The real registration service, counting the registrations (and noting the task) of each URL.</summary>
    private sealed class CountingRegistration(IRegistrationService inner) : IRegistrationService
    {
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, TaskId> _tasks = new(StringComparer.Ordinal);

        public int For(string url) => _counts.GetValueOrDefault(url);

        public TaskId TaskOf(string url) => _tasks[url];

        public async Task<RegistrationResult> RegisterAsync(RegistrationRequest request, CancellationToken cancellationToken)
        {
            var result = await inner.RegisterAsync(request, cancellationToken);
            _tasks[request.RawUrl] = result.TaskId;
            _counts.AddOrUpdate(request.RawUrl, 1, (_, n) => n + 1);
            return result;
        }
    }
}
