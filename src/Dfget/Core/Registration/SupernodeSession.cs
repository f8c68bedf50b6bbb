using System.Collections.Concurrent;
using Dragonfly.Common.Nodes;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Dragonfly.Dfget.Registration;

/// <summary>
/// The supernode locator and session: tries nodes in order (transport error or non-2xx → next), speaks v1 and falls back to
/// the legacy protocol per node when the node has no v1 task routes, migrates to the next different node on demand.
/// </summary>
internal sealed partial class SupernodeSession : ISupernodeSession
{
    private readonly IReadOnlyList<SupernodeAddress> _nodes;
    private RegistrationInfo _info;
    private readonly V1SupernodeApi _v1;
    private readonly LegacySupernodeApi _legacy;
    private readonly ConcurrentDictionary<string, bool> _legacyOnly;
    private readonly ResiliencePipeline _pieceReportPipeline;
    private readonly ResiliencePipeline _metricsPipeline;
    private readonly TimeProvider _timeProvider;
    private readonly Random _random;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, SupernodeRegistration> _registrations = new(StringComparer.OrdinalIgnoreCase);
    private int _currentIndex = -1;

    public SupernodeSession(
        IReadOnlyList<SupernodeAddress> nodes,
        RegistrationInfo info,
        HttpClient client,
        ConcurrentDictionary<string, bool> legacyOnly,
        Random random,
        TimeProvider timeProvider,
        ILogger logger)
    {
        _nodes = nodes;
        _info = info;
        _v1 = new V1SupernodeApi(client);
        _legacy = new LegacySupernodeApi(client);
        _legacyOnly = legacyOnly;
        _logger = logger;
        _timeProvider = timeProvider;
        _random = random;
        _pieceReportPipeline = Retry(3, random, timeProvider);
        _metricsPipeline = Retry(2, random, timeProvider);
    }

    public SupernodeRegistration? Current { get; private set; }

    public Task<RegisterOutcome> RegisterAsync(CancellationToken cancellationToken) =>
        RegisterFromAsync(0, except: null, cancellationToken);

    public Task<RegisterOutcome> MigrateAsync(CancellationToken cancellationToken)
    {
        var current = Current?.Node;
        return RegisterFromAsync(_currentIndex + 1, except: current, cancellationToken);
    }

    public Task<RegisterOutcome> RejoinAsync(CancellationToken cancellationToken) =>
        RegisterFromAsync(Math.Max(0, _currentIndex), except: null, cancellationToken);

    public Task<RegisterOutcome> ReRegisterAsync(RegistrationInfo info, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.Cid != _info.Cid)
        {
            throw new ArgumentException("a re-registration keeps the cid", nameof(info));
        }

        _info = info;
        return RejoinAsync(cancellationToken);
    }

    public async Task<RegisterOutcome> RecoverAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        if (window <= TimeSpan.Zero || _nodes.Count == 0)
        {
            return new RegisterOutcome.Failed(SupernodeHttp.TransportError, "no supernode to recover with");
        }

        // Rounds through the whole list, 250 ms apart doubling to 2 s (with jitter), while every node is unreachable.
        var pipeline = new ResiliencePipelineBuilder<RegisterOutcome> { TimeProvider = _timeProvider }
            .AddRetry(new RetryStrategyOptions<RegisterOutcome>
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(250),
                MaxDelay = TimeSpan.FromSeconds(2),
                UseJitter = true,
                Randomizer = () =>
                {
                    lock (_random)
                    {
                        return _random.NextDouble();
                    }
                },
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is RegisterOutcome.Failed { Code: SupernodeHttp.TransportError }),
                OnRetry = args =>
                {
                    Log.Recovering(_logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        using var windowCts = new CancellationTokenSource(window, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, windowCts.Token);
        RegisterOutcome last = new RegisterOutcome.Failed(SupernodeHttp.TransportError, "no supernode came back");
        try
        {
            return await pipeline.ExecuteAsync(
                async token =>
                {
                    last = await RegisterFromAsync(0, except: null, token).ConfigureAwait(false);
                    return last;
                },
                linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var message = last is RegisterOutcome.Failed f ? f.Message : "register cancelled";
            return new RegisterOutcome.Failed(SupernodeHttp.TransportError, $"no supernode came back within {window.TotalSeconds:0.#} s: {message}");
        }
    }

    public async Task<PullOutcome> PullAsync(PullReport report, CancellationToken cancellationToken)
    {
        var registration = Current ?? throw new InvalidOperationException("not registered");
        try
        {
            return registration.Api == SupernodeApiKind.V1
                ? await _v1.PullAsync(registration, _info.Cid, report, cancellationToken).ConfigureAwait(false)
                : await _legacy.PullAsync(registration, _info.Cid, report, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransport(e, cancellationToken))
        {
            return new PullOutcome.Failed(SupernodeHttp.TransportError, $"pull from {registration.Node}: {SupernodeHttp.Describe(e)}");
        }
    }

    public async Task ReportPieceSuccessAsync(PieceTask piece, bool alreadyOnDisk, CancellationToken cancellationToken)
    {
        var registration = Current;
        if (registration is null)
        {
            return;
        }

        try
        {
            await _pieceReportPipeline.ExecuteAsync(
                async token =>
                {
                    if (!ReferenceEquals(Current, registration))
                    {
                        // Registered anew since the first try (a rejoin keeps node, task id and cid, so a retry would land
                        // in the new registration and count a transfer it never scheduled); it learns the piece when it
                        // schedules it and this client reports it as already on disk.
                        return;
                    }

                    if (registration.Api == SupernodeApiKind.V1)
                    {
                        await _v1.ReportPieceSuccessAsync(registration, _info.Cid, piece, alreadyOnDisk, token).ConfigureAwait(false);
                    }
                    else
                    {
                        await _legacy.ReportPieceSuccessAsync(registration, _info.Cid, piece, token).ConfigureAwait(false);
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransport(e, cancellationToken))
        {
            Log.ReportFailed(_logger, "piece success", registration.Node.HostPort, SupernodeHttp.Describe(e));
        }
    }

    public async Task ReportPieceErrorAsync(PieceTask piece, PieceErrorKind kind, string? realMd5, CancellationToken cancellationToken)
    {
        var registration = Current;
        if (registration is null)
        {
            return;
        }

        try
        {
            if (registration.Api == SupernodeApiKind.V1)
            {
                await _v1.ReportPieceErrorAsync(registration, _info.Cid, piece, kind, realMd5, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _legacy.ReportPieceErrorAsync(registration, _info.Cid, piece, kind, realMd5, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsTransport(e, cancellationToken))
        {
            Log.ReportFailed(_logger, "piece error", registration.Node.HostPort, SupernodeHttp.Describe(e));
        }
    }

    public Task ServiceDownAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_registrations.Values.Select(registration => ServiceDownAsync(registration, cancellationToken)));

    private async Task ServiceDownAsync(SupernodeRegistration registration, CancellationToken cancellationToken)
    {
        try
        {
            await _legacy.ServiceDownAsync(registration, _info.Cid, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransport(e, cancellationToken))
        {
            Log.ReportFailed(_logger, "service down", registration.Node.HostPort, SupernodeHttp.Describe(e));
        }
    }

    public async Task ReportMetricsAsync(DownloadMetricsReport report, CancellationToken cancellationToken)
    {
        var registration = Current;
        if (registration is null)
        {
            return;
        }

        try
        {
            await _metricsPipeline.ExecuteAsync(
                async token => await _legacy.ReportMetricsAsync(registration, _info, report, token).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransport(e, cancellationToken))
        {
            Log.ReportFailed(_logger, "metrics", registration.Node.HostPort, SupernodeHttp.Describe(e));
        }
    }

    private async Task<RegisterOutcome> RegisterFromAsync(int start, SupernodeAddress? except, CancellationToken cancellationToken)
    {
        RegisterOutcome.Failed last = new(SupernodeHttp.TransportError, _nodes.Count == 0 ? "node list is empty" : "no supernode to register with");
        for (var i = start; i < _nodes.Count; i++)
        {
            var node = _nodes[i];
            if (except is not null && node.HostPort == except.HostPort)
            {
                continue;
            }

            var outcome = await RegisterWithAsync(node, cancellationToken).ConfigureAwait(false);
            if (outcome is RegisterOutcome.Registered registered)
            {
                _currentIndex = i;
                Current = registered.Registration;
                _registrations[node.HostPort] = registered.Registration;
                Log.Registered(_logger, node.HostPort, registered.Registration.Api, registered.Registration.TaskId, registered.Registration.FileLength);
                return outcome;
            }

            last = (RegisterOutcome.Failed)outcome;
            Log.RegisterFailed(_logger, node.HostPort, last.Code, last.Message);
            if (last.Code is 607 or 608)
            {
                // The original dfget stops trying other nodes on "url not reachable" / "need auth".
                break;
            }
        }

        return last;
    }

    private async Task<RegisterOutcome> RegisterWithAsync(SupernodeAddress node, CancellationToken cancellationToken)
    {
        try
        {
            // v1 cannot carry rootCAs/insecure, nor a cdn peer (port 0: PeerCreateRequest requires 15000..65000);
            // such registrations use the legacy registry, which our supernode serves too.
            var useV1 = !_legacyOnly.ContainsKey(node.HostPort) && !_info.Insecure && _info.RootCAs.Count == 0 && _info.Port != 0;
            if (useV1)
            {
                var outcome = await _v1.RegisterAsync(node, _info, cancellationToken).ConfigureAwait(false);
                if (outcome is not RegisterOutcome.Failed { Code: V1SupernodeApi.NotSupported })
                {
                    return outcome;
                }

                _legacyOnly[node.HostPort] = true;
                Log.FallingBackToLegacy(_logger, node.HostPort);
            }

            return await _legacy.RegisterAsync(node, _info, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransport(e, cancellationToken))
        {
            return new RegisterOutcome.Failed(SupernodeHttp.TransportError, $"register to {node}: {SupernodeHttp.Describe(e)}");
        }
    }

    private static bool IsTransport(Exception e, CancellationToken cancellationToken) =>
        e is HttpRequestException or Common.Api.Client.SupernodeApiException or System.Text.Json.JsonException or InvalidOperationException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>
    /// Builds and runs a report pipeline once with a no-op call, so Polly's option validation (reflection over data
    /// annotations) and its retry path are compiled before a download needs them; for a start-up warm-up thread.
    /// </summary>
    internal static async Task WarmUpRetryAsync()
    {
        var pipeline = Retry(3, new Random(0), TimeProvider.System);
        await pipeline.ExecuteAsync(static _ => ValueTask.CompletedTask, CancellationToken.None).ConfigureAwait(false);
    }

    private static ResiliencePipeline Retry(int tries, Random random, TimeProvider timeProvider) =>
        new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = tries - 1,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is HttpRequestException or Common.Api.Client.SupernodeApiException
                    || (args.Outcome.Exception is OperationCanceledException && !args.Context.CancellationToken.IsCancellationRequested)),
                DelayGenerator = _ =>
                {
                    int ms;
                    lock (random)
                    {
                        ms = random.Next(50, 551);
                    }

                    return ValueTask.FromResult<TimeSpan?>(TimeSpan.FromMilliseconds(ms));
                },
            })
            .Build();

    private static partial class Log
    {
        [LoggerMessage(2100, LogLevel.Information, "Registered with supernode {Node} ({Api}): task {TaskId}, length {FileLength}")]
        public static partial void Registered(ILogger logger, string node, SupernodeApiKind api, string taskId, long fileLength);

        [LoggerMessage(2101, LogLevel.Warning, "Register with supernode {Node} failed: code {Code} {Message}")]
        public static partial void RegisterFailed(ILogger logger, string node, int code, string message);

        [LoggerMessage(2102, LogLevel.Information, "Supernode {Node} has no v1 task routes; using the legacy protocol")]
        public static partial void FallingBackToLegacy(ILogger logger, string node);

        [LoggerMessage(2103, LogLevel.Warning, "Report {What} to supernode {Node} failed: {Error}")]
        public static partial void ReportFailed(ILogger logger, string what, string node, string error);

        [LoggerMessage(2104, LogLevel.Warning, "No supernode reachable; registering again, round {Round} in {DelayMs} ms")]
        public static partial void Recovering(ILogger logger, int round, double delayMs);
    }
}

/// <summary>Creates <see cref="SupernodeSession"/>s over the shared supernode HTTP client.</summary>
internal sealed class SupernodeSessionFactory(DfgetHttpClients clients, TimeProvider timeProvider, ILoggerFactory loggerFactory) : ISupernodeSessionFactory
{
    private readonly ConcurrentDictionary<string, bool> _legacyOnly = new(StringComparer.OrdinalIgnoreCase);

    public ISupernodeSession Create(IReadOnlyList<SupernodeAddress> nodes, RegistrationInfo info, Random random)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(random);
        return new SupernodeSession(nodes, info, clients.Supernode, _legacyOnly, random, timeProvider, loggerFactory.CreateLogger<SupernodeSession>());
    }
}
