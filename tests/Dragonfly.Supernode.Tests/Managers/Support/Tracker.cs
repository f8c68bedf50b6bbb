using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.DfgetTasks;
using Dragonfly.Supernode.Managers.Gc;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Managers.Scheduler;
using Dragonfly.Supernode.Managers.Tasks;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Supernode.Tests.Managers.Support;

/// <summary>All tracker managers wired by hand over fakes (origin, CDN, clock, seeded random).</summary>
public sealed class Tracker : IDisposable
{
    public const string SourceUrl = "http://127.0.0.1:8000/test.bin";
    public const int MiB = 1024 * 1024;

    private int _clients;

    public Tracker(TrackerOptions? options = null, int seed = 42)
    {
        Options = options ?? new TrackerOptions { AdvertiseIp = "10.0.0.1", HostName = "supernode" };
        Metrics = new TrackerMetrics(MeterFactory);
        Scheduler = new SchedulerMgr(Options, Time, new Random(seed));
        Progress = new ProgressMgr(Scheduler, Options, Time, Metrics);
        Tasks = new TaskMgr(Origin, Options, Time, Metrics, NullLogger<TaskMgr>.Instance);
        Peers = new PeerMgr(Options, Time);
        DfgetTasks = new DfgetTaskMgr(Metrics);
        Observer = new CdnProgressObserver(Progress, Tasks);
        Registration = new RegistrationService(Peers, Tasks, DfgetTasks, Progress, Cdn, Options, Time, NullLogger<RegistrationService>.Instance);
        Pull = new PiecePullService(Tasks, DfgetTasks, Progress, Cdn, Time, NullLogger<PiecePullService>.Instance);
        Gc = new GcMgr(Tasks, Peers, DfgetTasks, Progress, Cdn, Options, Time, Metrics, NullLogger<GcMgr>.Instance);
    }

    public TrackerOptions Options { get; }
    public FakeTimeProvider Time { get; } = new();
    public FakeOriginClient Origin { get; } = new();
    public FakeCdnMgr Cdn { get; } = new();
    public TestMeterFactory MeterFactory { get; } = new();
    public TrackerMetrics Metrics { get; }
    public SchedulerMgr Scheduler { get; }
    public ProgressMgr Progress { get; }
    public TaskMgr Tasks { get; }
    public PeerMgr Peers { get; }
    public DfgetTaskMgr DfgetTasks { get; }
    public CdnProgressObserver Observer { get; }
    public RegistrationService Registration { get; }
    public PiecePullService Pull { get; }
    public GcMgr Gc { get; }

    /// <summary>A legacy-style registration of a new p2p client for <see cref="SourceUrl"/>.</summary>
    public RegistrationRequest Request(int? clientNumber = null, string? url = null, int port = 15001)
    {
        var n = clientNumber ?? Interlocked.Increment(ref _clients);
        return new RegistrationRequest
        {
            RawUrl = url ?? SourceUrl,
            Cid = $"192.168.0.{n}-100-1795238008.{n:000}",
            Ip = $"192.168.0.{n}",
            HostName = $"host{n}",
            Port = port,
            Path = $"/peer/file/test.bin-100-1795238008.{n:000}",
            Version = "1.0.6",
            SupernodeIp = "10.0.0.9",
            CallSystem = "test",
        };
    }

    public async Task<RegistrationResult> RegisterAsync(RegistrationRequest? request = null) =>
        await Registration.RegisterAsync(request ?? Request(), CancellationToken.None);

    /// <summary>Makes the CDN report pieces 0..count-1 ready, each with a fake md5 of a full piece.</summary>
    public async Task CdnPiecesAsync(TaskId taskId, int count, int first = 0)
    {
        for (var i = first; i < first + count; i++)
        {
            Cdn.PieceMd5s[(taskId, i)] = new PieceMd5(new string((char)('a' + (i % 6)), 32), 4 * MiB);
            await Observer.OnPieceReadyAsync(taskId, i, Cdn.PieceMd5s[(taskId, i)], CancellationToken.None);
        }
    }

    /// <summary>The CDN succeeds with <paramref name="pieces"/> full 4 MiB pieces.</summary>
    public async Task CdnSuccessAsync(TaskId taskId, int pieces, string md5 = "0123456789abcdef0123456789abcdef")
    {
        var wrapped = (long)pieces * 4 * MiB;
        await Observer.OnCompletedAsync(taskId, new CdnResult(true, wrapped, wrapped - (5L * pieces), md5, false), CancellationToken.None);
    }

    public ValueTask<PullOutcome> PullAsync(RegistrationResult client, string status = "700", string? result = "502", string? range = null, string? dstCid = null) =>
        Pull.PullAsync(new PullRequest(client.TaskId.Value, client.Cid.Value, status, result, range, dstCid), CancellationToken.None);

    public static string RangeOf(int pieceNum) => PieceRange.ForPiece(pieceNum, 4 * MiB).ToString();

    public void Dispose() => MeterFactory.Dispose();
}
