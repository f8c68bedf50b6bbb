using Dragonfly.Supernode.Managers.Peers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Managers.Gc;

/// <summary>
/// Registers the supernode as a peer at start, then runs the metadata GC every <see cref="TrackerOptions.GcMetaInterval"/>
/// after <see cref="TrackerOptions.GcInitialDelay"/>, on the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed partial class GcService : BackgroundService
{
    private readonly IGcMgr _gc;
    private readonly IPeerMgr _peers;
    private readonly TrackerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<GcService> _logger;

    public GcService(IGcMgr gc, IPeerMgr peers, TrackerOptions options, TimeProvider timeProvider, ILogger<GcService> logger)
    {
        ArgumentNullException.ThrowIfNull(gc);
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _gc = gc;
        _peers = peers;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Completes each time a GC pass finished (for tests and diagnostics).</summary>
    public event Action<(int Tasks, int Peers)>? PassCompleted;

    /// <summary>Registers the supernode as a peer (synchronously, before the host serves), then starts the GC loop.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _peers.RegisterSupernode();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(_options.GcInitialDelay, _timeProvider, stoppingToken).ConfigureAwait(false);
            using var timer = new PeriodicTimer(_options.GcMetaInterval, _timeProvider);
            do
            {
                try
                {
                    var result = await _gc.RunOnceAsync(stoppingToken).ConfigureAwait(false);
                    PassCompleted?.Invoke(result);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.GcFailed(_logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeGc + 10, Level = LogLevel.Error, Message = "GC pass failed")]
        public static partial void GcFailed(ILogger logger, Exception exception);
    }
}
