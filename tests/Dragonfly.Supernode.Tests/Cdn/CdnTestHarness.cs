using System.Collections.Concurrent;
using Dragonfly.Common.Ids;
using Dragonfly.Common.Identity;
using Dragonfly.Common.Pieces;
using Dragonfly.Common.Rates;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Storage;
using Dragonfly.TestCommon;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using System.Diagnostics.Metrics;

namespace Dragonfly.Supernode.Tests.Cdn;

/// <summary>Records every CDN callback; lets tests await a piece or the completion.</summary>
public sealed class RecordingCdnObserver : ICdnObserver
{
    private readonly TaskCompletionSource<CdnResult> _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstPiece = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<(TaskId TaskId, int PieceNum, PieceMd5 Md5)> Pieces { get; } = new();

    public ConcurrentQueue<(TaskId TaskId, CdnResult Result)> Completions { get; } = new();

    public Task<CdnResult> Completed => _completed.Task;

    public Task FirstPiece => _firstPiece.Task;

    public ValueTask OnPieceReadyAsync(TaskId taskId, int pieceNum, PieceMd5 md5, CancellationToken cancellationToken)
    {
        Pieces.Enqueue((taskId, pieceNum, md5));
        _firstPiece.TrySetResult();
        return ValueTask.CompletedTask;
    }

    public ValueTask OnCompletedAsync(TaskId taskId, CdnResult result, CancellationToken cancellationToken)
    {
        Completions.Enqueue((taskId, result));
        _completed.TrySetResult(result);
        return ValueTask.CompletedTask;
    }
}

/// <summary>A CDNMgr over a temp home, a real OriginClient (or a given one), a test clock and a recording observer.</summary>
public sealed class CdnTestHarness : IDisposable
{
    private readonly ServiceProvider _metricsProvider;
    private readonly OriginClient? _ownedOrigin;

    public CdnTestHarness(string home, IOriginClient? origin = null, Action<CdnOptions>? configure = null, Func<IPieceStore, IPieceStore>? wrapStore = null)
    {
        Options = new CdnOptions { HomeDir = home, MaxBandwidth = Rate.Zero, SystemBandwidth = Rate.Zero };
        configure?.Invoke(Options);
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        LocalStore = new LocalPieceStore(options);
        Store = wrapStore?.Invoke(LocalStore) ?? LocalStore;
        if (origin is null)
        {
            _ownedOrigin = new OriginClient(new SourceConnector(SourceAddressPolicy.AllowAll, NullLogger<SourceConnector>.Instance), NullLogger<OriginClient>.Instance);
            origin = _ownedOrigin;
        }

        Origin = origin;
        _metricsProvider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Metrics = new CdnMetrics(_metricsProvider.GetRequiredService<IMeterFactory>());
        Mgr = new CDNMgr(options, Store, origin, () => Observer, Metrics, Clock, NullLogger<CDNMgr>.Instance);
    }

    public CdnOptions Options { get; }

    public LocalPieceStore LocalStore { get; }

    public IPieceStore Store { get; }

    public IOriginClient Origin { get; }

    public CdnMetrics Metrics { get; }

    public CdnTestClock Clock { get; } = new();

    public RecordingCdnObserver Observer { get; set; } = new();

    public CDNMgr Mgr { get; }

    public static CdnTaskSpec Spec(Uri url, long httpFileLength, int? pieceSize = null, string? md5 = null, string? identifier = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var taskUrl = url.ToString();
        return new CdnTaskSpec(
            TaskIdentity.ComputeTaskId(taskUrl, md5, identifier),
            taskUrl,
            new OriginRequest(url, headers ?? new Dictionary<string, string>()),
            pieceSize ?? PieceLayout.PieceSizeFor(httpFileLength),
            httpFileLength,
            md5,
            identifier);
    }

    public string Path(TaskId id, string suffix = "") => LocalStore.DataPath(id) + suffix;

    public void Dispose()
    {
        Mgr.Dispose();
        _ownedOrigin?.Dispose();
        _metricsProvider.Dispose();
    }
}
