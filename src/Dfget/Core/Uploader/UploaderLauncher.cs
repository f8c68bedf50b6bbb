using System.Globalization;
using Dragonfly.Common.Http;
using Dragonfly.Dfget.WorkHome;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Uploader;

/// <summary>Settings of <see cref="UploaderLauncher"/>.</summary>
public sealed record UploaderLauncherOptions
{
    /// <summary>How long to wait for a started uploader's port line (the original waited 1 s; .NET start-up needs more headroom).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Timeout of one <c>/check/</c>, <c>/client/finish</c> or <c>/client/abandon</c> call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Finds or starts the work home's uploader: the port in <c>host.meta</c> is reused when its <c>/check/</c> answers
/// <c>&lt;taskFileName&gt;@&lt;our version&gt;</c>; otherwise a detached <c>dfget server</c> is started on a port chosen
/// here (<see cref="UploaderPortProbe"/>), so the download can register with that port while the uploader starts; its
/// port line and <c>/check/</c> are awaited in the background (<see cref="UploaderLaunch.Serving"/>).
/// <see cref="EnsureRunningAsync"/> is the original, waiting way: the uploader picks its port among the same candidates.
/// </summary>
public sealed partial class UploaderLauncher : IUploaderLauncher, IDisposable
{
    private readonly UploaderLauncherOptions _options;
    private readonly IUploaderProcessStarter _starter;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _client;

    public UploaderLauncher(UploaderLauncherOptions options, IUploaderProcessStarter starter, ILogger<UploaderLauncher> logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(starter);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _starter = starter;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger;
        _client = new HttpClient(new SocketErrorHandler(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = options.RequestTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        }))
        {
            Timeout = options.RequestTimeout,
        };
    }

    public async Task<UploaderLaunch> LaunchAsync(UploaderLaunchRequest request, CancellationToken cancellationToken)
    {
        if (await FindRunningAsync(request, cancellationToken).ConfigureAwait(false) is { } running)
        {
            return UploaderLaunch.Running(running);
        }

        if (request.Port > 0)
        {
            return UploaderLaunch.Starting(request.Port, ServesOnAsync(request, null, cancellationToken));
        }

        var candidates = UploaderOptions.CandidatePorts(_time.GetUtcNow()).ToArray();
        var reservation = UploaderPortReservation.TryReserve(request.BindIp, candidates);
        // On Linux a port is only ever promised with a listening socket behind it: the bind-only probe leaves a window
        // in which a concurrent uploader takes the port before this one's child binds it.
        var port = reservation?.Port ?? (OperatingSystem.IsLinux() ? 0 : UploaderPortProbe.FirstBindable(request.BindIp, candidates));
        if (port == 0)
        {
            // No port to promise: let the uploader try its candidates itself, and wait for it.
            return await StartAndCheckAsync(request, null, cancellationToken).ConfigureAwait(false) is { } chosen
                ? UploaderLaunch.Running(chosen)
                : UploaderLaunch.None;
        }

        // The process is spawned before this returns (and inherits the reserved socket); its port line and /check/ are
        // awaited in the background.
        return UploaderLaunch.Starting(port, ServesOnAsync(request with { Port = port }, reservation, cancellationToken));
    }

    public async Task<int?> EnsureRunningAsync(UploaderLaunchRequest request, CancellationToken cancellationToken) =>
        await FindRunningAsync(request, cancellationToken).ConfigureAwait(false)
        ?? await StartAndCheckAsync(request, null, cancellationToken).ConfigureAwait(false);

    public async Task NotifyFinishedAsync(int port, string bindIp, string taskFileName, string taskId, string cid, string superNode, CancellationToken cancellationToken)
    {
        var query = string.Create(
            CultureInfo.InvariantCulture,
            $"client/finish?taskFileName={Uri.EscapeDataString(taskFileName)}&taskID={Uri.EscapeDataString(taskId)}&cid={Uri.EscapeDataString(cid)}&superNode={Uri.EscapeDataString(superNode)}");
        try
        {
            using var response = await _client.GetAsync(new Uri(UploaderUri(bindIp, port), query), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                Log.FinishRejected(_logger, taskFileName, (int)response.StatusCode);
            }
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.FinishRejected(_logger, taskFileName, 0);
        }
    }

    public async Task NotifyAbandonedAsync(int port, string bindIp, string taskFileName, CancellationToken cancellationToken)
    {
        var query = "client/abandon?taskFileName=" + Uri.EscapeDataString(taskFileName);
        try
        {
            using var response = await _client.GetAsync(new Uri(UploaderUri(bindIp, port), query), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                Log.AbandonRejected(_logger, taskFileName, (int)response.StatusCode);
            }
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.AbandonRejected(_logger, taskFileName, 0);
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>The port of the work home's uploader (<c>host.meta</c>) when it answers <c>/check/</c> for the task.</summary>
    private async Task<int?> FindRunningAsync(UploaderLaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!TaskFileNames.IsValid(request.TaskFileName))
        {
            throw new ArgumentException($"invalid task file name '{request.TaskFileName}'", nameof(request));
        }

        request.Home.EnsureCreated();
        var recorded = await new HostMetaFile(request.Home.HostMetaPath).ReadPortAsync(cancellationToken).ConfigureAwait(false);
        if (recorded > 0 && await CheckAsync(request, recorded, cancellationToken).ConfigureAwait(false))
        {
            Log.Reused(_logger, recorded);
            return recorded;
        }

        return null;
    }

    /// <summary>
    /// Starts <c>dfget server</c> with the request's port (serving on <paramref name="listener"/> when given, which the
    /// starter then owns) and returns the port that serves the task, or null.
    /// </summary>
    private async Task<int?> StartAndCheckAsync(UploaderLaunchRequest request, UploaderPortReservation? listener, CancellationToken cancellationToken)
    {
        var started = await _starter.StartAsync(ServerArguments(request), _options.StartTimeout, listener, cancellationToken).ConfigureAwait(false);
        var meta = new HostMetaFile(request.Home.HostMetaPath);
        if (started is null)
        {
            // A concurrent dfget may have won the work-home lock: its uploader records its port shortly.
            var recorded = await meta.ReadPortAsync(cancellationToken).ConfigureAwait(false);
            if (recorded > 0 && await CheckAsync(request, recorded, cancellationToken).ConfigureAwait(false))
            {
                return recorded;
            }

            Log.StartFailed(_logger);
            return null;
        }

        if (await CheckAsync(request, started.Value, cancellationToken).ConfigureAwait(false))
        {
            Log.Started(_logger, started.Value);
            return started;
        }

        Log.CheckFailed(_logger, started.Value);
        return null;
    }

    /// <summary>
    /// Whether the uploader started for <paramref name="request"/> serves the task on the port it was told to bind. Runs
    /// synchronously up to the spawn; never faults (only a cancelled download cancels it).
    /// </summary>
    private async Task<bool> ServesOnAsync(UploaderLaunchRequest request, UploaderPortReservation? listener, CancellationToken cancellationToken)
    {
        try
        {
            var port = await StartAndCheckAsync(request, listener, cancellationToken).ConfigureAwait(false);
            if (port is { } actual && actual != request.Port)
            {
                // Another uploader owns the work home on another port: ours is not the port the download registered.
                Log.OtherPort(_logger, request.Port, actual);
            }

            return port == request.Port;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.LaunchFailed(_logger, e.Message);
            return false;
        }
    }

    /// <summary>The <c>dfget server ...</c> arguments for a request (durations in milliseconds, which Go's parser also accepts).</summary>
    public static IReadOnlyList<string> ServerArguments(UploaderLaunchRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = new List<string>
        {
            "server",
            "--ip", request.BindIp,
            "--port", request.Port.ToString(CultureInfo.InvariantCulture),
            "--meta", request.Home.HostMetaPath,
            "--data", request.Home.DataDir,
            "--home", request.Home.Root,
            "--expiretime", FormatDuration(request.ExpireTime),
            "--alivetime", FormatDuration(request.AliveTime),
        };
        if (request.Verbose)
        {
            args.Add("--verbose");
        }

        return args;
    }

    private static string FormatDuration(TimeSpan value) =>
        string.Create(CultureInfo.InvariantCulture, $"{(long)value.TotalMilliseconds}ms");

    /// <summary>
    /// <c>GET /check/&lt;name&gt;</c>: registers the task with the uploader on <paramref name="port"/>. A cancelled download
    /// sends none, but one already sent is not cut off (only <see cref="UploaderLauncherOptions.RequestTimeout"/> ends it):
    /// a request abandoned halfway may still reach the uploader and register the name after the download withdrew it
    /// (<c>/client/abandon</c>). Finished, its answer says whether the name is registered, and the withdrawal follows it.
    /// </summary>
    private async Task<bool> CheckAsync(UploaderLaunchRequest request, int port, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(UploaderUri(request.BindIp, port), "check/" + Uri.EscapeDataString(request.TaskFileName)));
        message.Headers.TryAddWithoutValidation("dataDir", Path.GetFullPath(request.Home.DataDir));
        message.Headers.TryAddWithoutValidation("totalLimit", request.TotalLimitBytesPerSecond.ToString(CultureInfo.InvariantCulture));
        try
        {
            using var response = await _client.SendAsync(message, CancellationToken.None).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return false;
            }

            var body = await response.Content.ReadAsStringAsync(CancellationToken.None).ConfigureAwait(false);
            return body == $"{request.TaskFileName}@{Engine.DfgetVersion.Current}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>The base address of a work home's uploader bound on <paramref name="bindIp"/> (loopback for none or any).</summary>
    public static Uri UploaderUri(string? bindIp, int port)
    {
        var host = string.IsNullOrEmpty(bindIp) || bindIp is "0.0.0.0" or "::" ? "127.0.0.1" : bindIp;
        if (host.Contains(':', StringComparison.Ordinal))
        {
            host = $"[{host}]";
        }

        return new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{host}:{port}/"));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 40, Level = LogLevel.Information, Message = "Reusing the uploader on port {Port}")]
        public static partial void Reused(ILogger logger, int port);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 41, Level = LogLevel.Information, Message = "Started an uploader on port {Port}")]
        public static partial void Started(ILogger logger, int port);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 42, Level = LogLevel.Warning, Message = "Could not start an uploader")]
        public static partial void StartFailed(ILogger logger);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 43, Level = LogLevel.Warning, Message = "The uploader started on port {Port} did not accept the task")]
        public static partial void CheckFailed(ILogger logger, int port);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 44, Level = LogLevel.Warning, Message = "The uploader did not accept the finish of {TaskFileName} (status {Status})")]
        public static partial void FinishRejected(ILogger logger, string taskFileName, int status);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 47, Level = LogLevel.Warning, Message = "The uploader did not take back {TaskFileName} (status {Status}); it answers 404 for it once the file is gone")]
        public static partial void AbandonRejected(ILogger logger, string taskFileName, int status);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 45, Level = LogLevel.Warning, Message = "The uploader started for port {Port} answers on port {Actual}")]
        public static partial void OtherPort(ILogger logger, int port, int actual);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 46, Level = LogLevel.Warning, Message = "Starting the uploader failed: {Error}")]
        public static partial void LaunchFailed(ILogger logger, string error);
    }
}
