using System.Collections.Concurrent;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Identity;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Api;
using Dragonfly.Supernode.Hosting;
using Dragonfly.Supernode.Managers.Gc;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Managers.Tasks;
using Dragonfly.Supernode.Origin;
using TaskCdnStatus = Dragonfly.Supernode.Managers.Tasks.CdnStatus;

namespace Dragonfly.Supernode.Preheat;

/// <summary>
/// Preheats (§1.7). A file preheat registers through the same in-process <see cref="IRegistrationService"/> a dfget uses
/// (a cdn-pattern client, no uploader), which triggers the CDN; the status follows the task's CDN status. An image preheat
/// fetches the manifest (token auth once on 401), and runs one child file preheat per layer blob, at most
/// <see cref="MaxConcurrentChildren"/> at a time; the parent succeeds when every child did and fails on the first failure.
/// A layer is one record whoever asks for it: a second image sharing it (or a file preheat of the blob) waits for the run
/// already going or reuses its success, and only a failed one is run again. A child stopped with the supernode ends FAILED.
/// An image of more than <see cref="ManifestParser.MaxEntries"/> layers (or a list of more child manifests) fails at once.
/// From the moment the host begins to stop (<see cref="IHostApplicationLifetime.ApplicationStopping"/>, before Kestrel
/// drains its requests) or it is disposed, it refuses new preheats with 503 and ends every run FAILED with
/// <see cref="StoppingMessage"/>, a run it had not begun yet included (instead of staying WAITING).
/// </summary>
public sealed partial class PreheatService : IDisposable
{
    private readonly ConcurrentDictionary<string, PreheatRecord> _records = new(StringComparer.Ordinal);
    private readonly IServiceProvider _services;
    private readonly SupernodeRuntime _runtime;
    private readonly TimeProvider _time;
    private readonly ILogger<PreheatService> _logger;
    private readonly RegistryClient _registry;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenRegistration _onHostStopping;

    /// <summary>Taken once: <see cref="CancellationTokenSource.Token"/> throws after <see cref="Dispose"/>, this stays usable.</summary>
    private readonly CancellationToken _stoppingToken;
    private int _stopped;
    private int _disposed;

    public PreheatService(
        IServiceProvider services, SupernodeRuntime runtime, SourceConnector connector, TimeProvider time, IHostApplicationLifetime lifetime,
        ILogger<PreheatService> logger)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(logger);
        _registry = new RegistryClient(connector);
        _services = services;
        _runtime = runtime;
        _time = time;
        _logger = logger;
        _stoppingToken = _stopping.Token;

        // Last: a host already stopping runs the callback here and now.
        _onHostStopping = lifetime.ApplicationStopping.Register(static state => ((PreheatService)state!).Stop(), this);
    }

    /// <summary>Why a preheat ended (or was refused) because the supernode stops.</summary>
    public const string StoppingMessage = "supernode stopping";

    /// <summary>How often a running file preheat looks at its task's CDN status.</summary>
    internal TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How many layer preheats of one image run at once (the rest wait their turn).</summary>
    internal int MaxConcurrentChildren { get; init; } = 4;

    /// <summary>A file preheat fails when its CDN has not finished after this long (the original's 30 minutes).</summary>
    internal TimeSpan FileTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Validates and starts a preheat; returns its id. An unfinished preheat with the same id is reused; a failed one is
    /// restarted.
    /// </summary>
    /// <exception cref="ApiException">
    /// 400 for bad input; 208 when a successful preheat with this id exists; 503 once the host stops or the service is disposed.
    /// </exception>
    public string Create(PreheatCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Volatile.Read(ref _stopped) != 0)
        {
            throw new ApiException(StatusCodes.Status503ServiceUnavailable, StoppingMessage);
        }

        // The enum converter also takes a JSON number, of any value: only image and file are preheat types.
        if (request.Type is not { } type || !Enum.IsDefined(type))
        {
            throw ApiException.BadRequest("type is required (image or file)");
        }

        if (string.IsNullOrWhiteSpace(request.Url) || request.Url.Length < 3)
        {
            throw ApiException.BadRequest("url is required (at least 3 characters)");
        }

        if (!TaskIdentity.IsHttpUrl(request.Url))
        {
            throw ApiException.BadRequest($"url '{request.Url}' is not an http or https URL");
        }

        if (type == PreheatType.Image && !ImageReference.TryParse(request.Url, out _))
        {
            throw ApiException.BadRequest($"url '{request.Url}' is not an image manifest URL (<scheme>://<host>/v2/<repo>/manifests/<reference>)");
        }

        var headers = request.Headers ?? new Dictionary<string, string>();
        var id = IdOf(request.Url, request.Filter, request.Identifier, headers);
        var record = new PreheatRecord(id, type, request.Url, request.Filter, request.Identifier, headers, parentId: null, _time.GetUtcNow());
        while (true)
        {
            if (_records.TryAdd(id, record))
            {
                Start(record);
                return id;
            }

            if (!_records.TryGetValue(id, out var existing))
            {
                continue;
            }

            switch (existing.Status)
            {
                case PreheatStatus.Success:
                    throw new ApiException(StatusCodes.Status208AlreadyReported, $"preheat task already exists, id:{id}");
                case PreheatStatus.Waiting or PreheatStatus.Running:
                    return id;
                default:
                    if (_records.TryUpdate(id, record, existing))
                    {
                        Start(record);
                        return id;
                    }

                    break;
            }
        }
    }

    public PreheatInfo? Get(string id) => _records.TryGetValue(id, out var record) ? record.ToInfo() : null;

    public IReadOnlyList<PreheatTask> List() => _records.Values.Select(r => r.ToTask()).OrderBy(t => t.StartTime).ThenBy(t => t.Id, StringComparer.Ordinal).ToList();

    /// <summary>Forgets a preheat record (a running preheat's CDN work continues). False when unknown.</summary>
    public bool Delete(string id) => _records.TryRemove(id, out _);

    /// <summary>Stops as the host's stopping does (<see cref="Stop"/>) and releases the registry client; a second call does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Waits for a stop the host's callback is running, so the source is not disposed under its Cancel.
        _onHostStopping.Dispose();
        Stop();
        _stopping.Dispose();
        _registry.Dispose();
    }

    /// <summary>Refuses new preheats from now on and stops every run (each ends FAILED with <see cref="StoppingMessage"/>).</summary>
    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            _stopping.Cancel();
        }
    }

    internal static string IdOf(string url, string? filter, string? identifier, IReadOnlyDictionary<string, string> headers)
    {
        var range = TaskHeaders.ValueOf(headers, "Range");
        return TaskIdentity.ComputeTaskId(TaskIdentity.FilterUrl(url, TaskIdentity.ParseFilter(filter)), md5: null, identifier, range).Value;
    }

    private void Start(PreheatRecord record)
    {
        if (!record.TryClaim())
        {
            return;
        }

        // Not Task.Run(..., token): a task whose token is cancelled before it starts never runs, and its record would stay
        // WAITING for ever. RunAsync itself ends a run begun after the stop.
        var ct = _stoppingToken;
        _ = Task.Run(() => RunAsync(record, ct), CancellationToken.None);
    }

    private async Task RunAsync(PreheatRecord record, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            record.Finish(false, StoppingMessage, _time.GetUtcNow());
            return;
        }

        record.SetRunning(_time.GetUtcNow());
        try
        {
            var (success, error) = record.Type == PreheatType.Image
                ? await RunImageAsync(record, cancellationToken).ConfigureAwait(false)
                : await RunFileAsync(record, cancellationToken).ConfigureAwait(false);
            record.Finish(success, error, _time.GetUtcNow());
            LogFinished(_logger, record.Id, record.Url, success, error);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            record.Finish(false, StoppingMessage, _time.GetUtcNow());
        }
        catch (Exception e)
        {
            record.Finish(false, e.Message, _time.GetUtcNow());
            LogFinished(_logger, record.Id, record.Url, false, e.Message);
        }
    }

    private async Task<(bool Success, string? Error)> RunFileAsync(PreheatRecord record, CancellationToken cancellationToken)
    {
        var registration = _services.GetRequiredService<IRegistrationService>();
        var tasks = _services.GetRequiredService<ITaskMgr>();
        var sign = record.Id[..16];
        RegistrationResult result;
        try
        {
            result = await registration.RegisterAsync(
                new RegistrationRequest
                {
                    RawUrl = record.Url,
                    Filter = TaskIdentity.ParseFilter(record.Filter),
                    Cid = $"preheat-{sign}",
                    Ip = _runtime.AdvertiseIp,
                    HostName = "supernode-preheat",
                    Port = 0,
                    Path = $"/peer/file/preheat-{sign}",
                    Identifier = record.Identifier,
                    CallSystem = "dragonfly_preheat",
                    HeaderMap = record.Headers,
                    SupernodeIp = _runtime.AdvertiseIp,
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Common.Errors.DragonflyException e)
        {
            return (false, e.WireMessage);
        }

        try
        {
            var deadline = _time.GetUtcNow() + FileTimeout;
            while (true)
            {
                if (!tasks.TryGet(result.TaskId, out var task))
                {
                    return (false, $"task {result.TaskId.Value} disappeared before its CDN finished");
                }

                switch (task.CdnStatus)
                {
                    case TaskCdnStatus.Success:
                        return (true, null);
                    case TaskCdnStatus.Failed or TaskCdnStatus.SourceError:
                        return (false, $"cdn status of task {result.TaskId.Value} is {CdnStatusText.ToWire(task.CdnStatus)}");
                }

                if (_time.GetUtcNow() >= deadline)
                {
                    return (false, $"timed out after {FileTimeout} waiting for the CDN of task {result.TaskId.Value}");
                }

                await Task.Delay(PollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // The preheat client was only a vehicle for the CDN; drop its peer so it is never scheduled as a holder.
            _services.GetRequiredService<IGcMgr>().DeletePeer(result.PeerId);
        }
    }

    private async Task<(bool Success, string? Error)> RunImageAsync(PreheatRecord parent, CancellationToken cancellationToken)
    {
        if (!ImageReference.TryParse(parent.Url, out var image))
        {
            return (false, $"url '{parent.Url}' is not an image manifest URL");
        }

        var (body, authorization) = await _registry.GetManifestAsync(parent.Url, parent.Headers, authorization: null, cancellationToken).ConfigureAwait(false);
        var content = ManifestParser.Parse(body);
        var layers = new List<string>(content.Layers);
        var seen = new HashSet<string>(layers, StringComparer.Ordinal);
        foreach (var child in content.ChildManifests)
        {
            (var childBody, authorization) = await _registry.GetManifestAsync(image.ManifestUrl(child), parent.Headers, authorization, cancellationToken).ConfigureAwait(false);
            layers.AddRange(ManifestParser.Parse(childBody).Layers.Where(seen.Add));
            if (layers.Count > ManifestParser.MaxEntries)
            {
                return (false, $"image names more than {ManifestParser.MaxEntries} layers");
            }
        }

        var childHeaders = new Dictionary<string, string>(parent.Headers, StringComparer.OrdinalIgnoreCase);
        if (authorization is not null)
        {
            childHeaders["Authorization"] = authorization;
        }

        var children = layers.Select(digest => AcquireChild(parent, image.BlobUrl(digest), childHeaders)).ToList();
        parent.SetChildren(children.Select(c => c.Id).ToList());
        if (children.Count == 0)
        {
            return (true, null);
        }

        // Children run concurrently, a few at a time; the first failure fails the parent, and the rest are left to finish
        // on their own (still a few at a time: the slots go once the last child is done). A child another preheat already
        // runs (an image sharing the layer, or a file preheat of the blob) or has finished is awaited, not run again.
        var slots = new SemaphoreSlim(MaxConcurrentChildren);
        var runs = children.Select(c => c.TryClaim() ? RunChildAsync(c, slots, cancellationToken) : AwaitChildAsync(c, cancellationToken)).ToList();
        _ = Task.WhenAll(runs).ContinueWith(static (_, state) => ((SemaphoreSlim)state!).Dispose(), slots, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        while (runs.Count > 0)
        {
            var done = await Task.WhenAny(runs).ConfigureAwait(false);
            runs.Remove(done);
            var (ok, error) = await done.ConfigureAwait(false);
            if (!ok)
            {
                return (false, $"layer preheat failed: {error}");
            }
        }

        return (true, null);
    }

    /// <summary>
    /// The record of one layer: the existing one when it is waiting, running or done (the same blob is preheated once,
    /// whichever image or file preheat asked first), a new one in place of one that failed (tried again, as
    /// <see cref="Create"/> does).
    /// </summary>
    private PreheatRecord AcquireChild(PreheatRecord parent, string url, IReadOnlyDictionary<string, string> headers)
    {
        var id = IdOf(url, filter: null, parent.Identifier, headers);
        while (true)
        {
            var fresh = new PreheatRecord(id, PreheatType.File, url, null, parent.Identifier, headers, parent.Id, _time.GetUtcNow());
            var child = _records.GetOrAdd(id, fresh);
            if (ReferenceEquals(child, fresh) || child.Status != PreheatStatus.Failed)
            {
                return child;
            }

            if (_records.TryUpdate(id, fresh, child))
            {
                return fresh;
            }
        }
    }

    private static async Task<(bool, string?)> AwaitChildAsync(PreheatRecord child, CancellationToken cancellationToken)
    {
        await child.Finished.WaitAsync(cancellationToken).ConfigureAwait(false);
        var info = child.ToInfo();
        return info.Status == PreheatStatus.Success ? (true, null) : (false, info.ErrorMsg);
    }

    private async Task<(bool, string?)> RunChildAsync(PreheatRecord child, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                child.SetRunning(_time.GetUtcNow());
                var (ok, error) = await RunFileAsync(child, cancellationToken).ConfigureAwait(false);
                child.Finish(ok, error, _time.GetUtcNow());
                return (ok, error);
            }
            finally
            {
                slots.Release();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Waiting for a slot or for its CDN when the supernode stops: it ends FAILED with the reason, never stays
            // WAITING or RUNNING (which the parent's own FAILED would contradict).
            child.Finish(false, StoppingMessage, _time.GetUtcNow());
            throw;
        }
        catch (Exception e)
        {
            child.Finish(false, e.Message, _time.GetUtcNow());
            return (false, e.Message);
        }
    }
}
