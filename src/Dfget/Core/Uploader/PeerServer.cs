using System.Diagnostics.Metrics;
using System.Net;
using Dragonfly.Dfget.WorkHome;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// The uploader ("peer server") as a library: owns the work-home lock, binds Kestrel (given port, or the original's
/// time-derived candidates), records the port in <c>host.meta</c>, runs the janitor, and on stop (idle for the alive time,
/// a signal, or <see cref="RequestShutdown"/>) reports service-down, deletes the files it manages and writes port 0.
/// Hosted as a process by <c>dfget server</c>, in-process by tests and dfdaemon.
/// </summary>
public sealed partial class PeerServer : IAsyncDisposable
{
    private readonly UploaderOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly IServiceDownReporter _reporter;
    private readonly HttpServiceDownReporter? _ownedReporter;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly UploadRateLimiter _limiter;
    private readonly UploaderMetrics _metrics;
    private readonly UploaderJanitor _janitor;
    private readonly PieceConnectionMiddleware _pieces;
    private WorkHomeLock? _lock;
    private UploaderKestrelHost? _app;
    private int _started;

    public PeerServer(
        UploaderOptions options,
        ILoggerFactory loggerFactory,
        TimeProvider? time = null,
        IServiceDownReporter? reporter = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        options.Validate();
        _options = options;
        _loggerFactory = loggerFactory;
        _time = time ?? TimeProvider.System;
        _reporter = reporter ?? (_ownedReporter = new HttpServiceDownReporter());
        _logger = loggerFactory.CreateLogger<PeerServer>();
        Tasks = new UploadTaskRegistry(_time, options.MaxTasks);
        Activity = new UploaderActivity(_time);
        _limiter = new UploadRateLimiter(options.TotalLimit.BytesPerSecond);
        _metrics = new UploaderMetrics(meterFactory);
        _janitor = new UploaderJanitor(options, Tasks, Activity, _reporter, _time, loggerFactory.CreateLogger<UploaderJanitor>());
        var sender = new PieceSender(_limiter, _metrics, _time, loggerFactory.CreateLogger<PieceSender>());
        var pieces = new PieceRequestResolver(Tasks, Activity, loggerFactory.CreateLogger<PieceRequestResolver>());
        Dispatcher = new UploaderRequestDispatcher(options, Tasks, _limiter, Activity, pieces, sender, loggerFactory.CreateLogger<UploaderRequestDispatcher>());
        _pieces = new PieceConnectionMiddleware(pieces, sender, loggerFactory.CreateLogger<PieceConnectionMiddleware>())
        {
            SendStallTimeout = options.SendStallTimeout,
        };
    }

    /// <summary>The bound port (0 before <see cref="StartAsync"/> succeeded).</summary>
    public int Port { get; private set; }

    public UploadTaskRegistry Tasks { get; }

    public UploaderActivity Activity { get; }

    public UploadRateLimiter RateLimiter => _limiter;

    public UploaderJanitor Janitor => _janitor;

    /// <summary>The request handler, for hosts that mount the uploader routes in their own pipeline.</summary>
    public UploaderRequestDispatcher Dispatcher { get; }

    /// <summary>Completes when the uploader has stopped and cleaned up.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Takes the work-home lock, binds, records the port; returns the port.</summary>
    /// <exception cref="UploaderStartException">The work home is owned by another uploader, or no port could be bound.</exception>
    public async Task<int> StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("the uploader was already started");
        }

        if (_options.LockPath is not null)
        {
            _lock = WorkHomeLock.TryAcquire(_options.LockPath)
                ?? throw new UploaderStartException(UploaderStartFailure.WorkHomeLocked, $"another uploader owns {_options.LockPath}");
        }

        try
        {
            (_app, Port) = await BindAsync(cancellationToken).ConfigureAwait(false);
            if (_options.HostMetaPath is not null)
            {
                await new HostMetaFile(_options.HostMetaPath).WritePortAsync(Port, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            if (_app is not null)
            {
                await _app.DisposeAsync().ConfigureAwait(false);
                _app = null;
            }

            _lock?.Dispose();
            _lock = null;
            throw;
        }

        // Off the caller's path: the first log event costs ~13 ms (the file sink opens, the renderer warms up), and
        // dfget server prints its port line, which the first download of a work home waits for, when this returns.
        _ = Task.Run(RunAsync, CancellationToken.None);
        return Port;
    }

    /// <summary>Asks the uploader to stop (idempotent); await <see cref="Completion"/> for the cleanup.</summary>
    public void RequestShutdown()
    {
        Activity.BeginStopping();
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async Task StopAsync()
    {
        RequestShutdown();
        if (Volatile.Read(ref _started) != 0 && Port != 0)
        {
            await Completion.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
        _limiter.Dispose();
        _metrics.Dispose();
        _ownedReporter?.Dispose();
    }

    private async Task RunAsync()
    {
        Log.Started(_logger, _options.BindAddress, Port);
        try
        {
            await _janitor.RunAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A broken housekeeping loop must not leave a half-alive uploader behind: stop cleanly.
            Log.StopFailed(_logger, e);
        }

        try
        {
            // From here /check/ and /server/ping answer 503: no new download takes this port while it closes.
            Activity.BeginStopping();
            Log.Stopping(_logger, Port);

            // Files are deleted before any report goes out; the timeout only cuts the (parallel) service-down reports short.
            using var cleanupTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _janitor.ShutdownAsync(cleanupTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            if (_app is not null)
            {
                // Graceful for in-flight uploads, bounded like the generic host's shutdown timeout; then aborted.
                using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _app.StopAsync(stopTimeout.Token).ConfigureAwait(false);
                await _app.DisposeAsync().ConfigureAwait(false);
            }

            await ReleaseHostMetaAsync().ConfigureAwait(false);
            _completion.TrySetResult();
        }
        catch (Exception e)
        {
            Log.StopFailed(_logger, e);
            _completion.TrySetException(e);
        }
        finally
        {
            _lock?.Dispose();
        }
    }

    private async Task ReleaseHostMetaAsync()
    {
        if (_options.HostMetaPath is null)
        {
            return;
        }

        var meta = new HostMetaFile(_options.HostMetaPath);
        try
        {
            // Only a file that names this uploader is reset: one that is gone (the work home deleted meanwhile) or names
            // another port is left as it is, so an uploader never recreates a work home on its way out.
            await meta.ClearIfPortAsync(Port, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.StopFailed(_logger, e);
        }
    }

    private async Task<(UploaderKestrelHost App, int Port)> BindAsync(CancellationToken cancellationToken)
    {
        if (_options.ListenDescriptor is { } descriptor && _options.Port > 0)
        {
            if (UploaderKestrelHost.IsListeningOn(descriptor, _options.BindAddress, _options.Port))
            {
                return await UploaderKestrelHost.StartAsync(descriptor, _options.Port, _pieces.Wrap, Dispatcher.HandleAsync, _loggerFactory, cancellationToken).ConfigureAwait(false);
            }

            Log.InheritedSocketIgnored(_logger, descriptor, _options.BindAddress, _options.Port);
        }

        IEnumerable<int> ports = _options.Port > 0 ? [_options.Port]
            : _options.UseEphemeralPort ? [0]
            : UploaderOptions.CandidatePorts(_time.GetUtcNow());
        IOException? last = null;
        foreach (var port in ports)
        {
            try
            {
                return await UploaderKestrelHost.StartAsync(_options.BindAddress, port, _pieces.Wrap, Dispatcher.HandleAsync, _loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                last = e;
                Log.BindFailed(_logger, _options.BindAddress, port, e.Message);
            }
        }

        throw new UploaderStartException(UploaderStartFailure.NoPort, $"cannot bind the uploader on {_options.BindAddress}: {last?.Message}", last);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 30, Level = LogLevel.Information, Message = "Uploader listening on {Address}:{Port}")]
        public static partial void Started(ILogger logger, IPAddress address, int port);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 31, Level = LogLevel.Information, Message = "Cannot bind {Address}:{Port}: {Reason}")]
        public static partial void BindFailed(ILogger logger, IPAddress address, int port, string reason);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 32, Level = LogLevel.Information, Message = "Uploader on port {Port} stopping")]
        public static partial void Stopping(ILogger logger, int port);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 33, Level = LogLevel.Error, Message = "Uploader shutdown failed")]
        public static partial void StopFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 34, Level = LogLevel.Warning, Message = "Inherited descriptor {Descriptor} is not a socket listening on {Address}:{Port}; binding instead")]
        public static partial void InheritedSocketIgnored(ILogger logger, int descriptor, IPAddress address, int port);
    }
}

public enum UploaderStartFailure
{
    /// <summary>Another uploader holds the work-home lock.</summary>
    WorkHomeLocked,

    /// <summary>None of the candidate ports could be bound.</summary>
    NoPort,
}

/// <summary>The uploader could not start; <see cref="Failure"/> says why.</summary>
public sealed class UploaderStartException : Exception
{
    public UploaderStartException(UploaderStartFailure failure, string message, Exception? inner = null)
        : base(message, inner) => Failure = failure;

    public UploaderStartFailure Failure { get; }
}
