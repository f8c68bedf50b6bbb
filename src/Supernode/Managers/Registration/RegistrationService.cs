using System.Net;
using Dragonfly.Common.Errors;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Identity;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.DfgetTasks;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Tasks;
using Dragonfly.Supernode.Origin;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Managers.Registration;

/// <summary>The whole registration of PROTOCOL §1.4. See <see cref="IRegistrationService"/>.</summary>
public sealed partial class RegistrationService : IRegistrationService
{
    private const int MaxFieldLength = 4096;
    private readonly IPeerMgr _peers;
    private readonly ITaskMgr _tasks;
    private readonly IDfgetTaskMgr _dfgetTasks;
    private readonly IProgressMgr _progress;
    private readonly ICDNMgr _cdn;
    private readonly TrackerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<RegistrationService> _logger;

    public RegistrationService(
        IPeerMgr peers,
        ITaskMgr tasks,
        IDfgetTaskMgr dfgetTasks,
        IProgressMgr progress,
        ICDNMgr cdn,
        TrackerOptions options,
        TimeProvider timeProvider,
        ILogger<RegistrationService> logger)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(dfgetTasks);
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(cdn);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _peers = peers;
        _tasks = tasks;
        _dfgetTasks = dfgetTasks;
        _progress = progress;
        _cdn = cdn;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <inheritdoc />
    public async Task<RegistrationResult> RegisterAsync(RegistrationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var input = Validate(request);

        PeerSnapshot peer;
        var peerCreated = false;
        if (input.ExistingPeer is { } existingPeerId)
        {
            peer = _peers.Get(existingPeerId);
        }
        else
        {
            peer = _peers.Register(new PeerRegistration(request.Ip ?? string.Empty, request.HostName ?? string.Empty, request.Port, request.Version, input.Pattern));
            peerCreated = true;
        }

        TaskRegistrationResult? task = null;
        var dfgetTaskAdded = false;
        try
        {
            task = await _tasks.GetOrCreateAsync(input.Spec, cancellationToken).ConfigureAwait(false);
            var taskId = task.Task.Id;
            var key = new DfgetTaskKey(input.Cid, taskId);
            _dfgetTasks.Add(new DfgetTaskSnapshot(input.Cid, taskId, peer.Id, request.Path, task.Task.PieceSize, DfgetTaskStatus.Waiting,
                input.SupernodeIp, request.CallSystem, request.Dfdaemon, _timeProvider.GetUtcNow()));
            dfgetTaskAdded = true;
            _progress.InitTask(taskId);
            _progress.InitClient(new ClientJoin(taskId, input.Cid, peer.Id, peer.Ip, peer.Port, request.Path, input.SupernodeIp,
                input.Pattern ?? peer.Pattern, Streaming: request.Dfdaemon));

            if (task.ShouldTriggerCdn)
            {
                _progress.ResetCdn(taskId);
                _cdn.Trigger(new CdnTaskSpec(taskId, task.Task.TaskUrl, input.Origin, task.Task.PieceSize, task.Task.HttpFileLength,
                    task.Task.Md5, task.Task.Identifier));
            }

            Log.Registered(_logger, key, peer.Id, task.Created);
            return new RegistrationResult(taskId, task.Task.HttpFileLength, task.Task.PieceSize,
                _options.CdnPattern == CdnPattern.Source ? "source" : "supernode", peer.Id, input.Cid);
        }
        catch (Exception e)
        {
            Log.RegistrationFailed(_logger, request.RawUrl, e.Message);
            Rollback(input.Cid, peer, peerCreated, task, dfgetTaskAdded);
            throw;
        }
    }

    /// <summary>Undoes what this registration created, so a failure leaves nothing half-made.</summary>
    private void Rollback(Cid cid, PeerSnapshot peer, bool peerCreated, TaskRegistrationResult? task, bool dfgetTaskAdded)
    {
        if (task is not null)
        {
            var taskId = task.Task.Id;
            if (dfgetTaskAdded)
            {
                _dfgetTasks.Delete(new DfgetTaskKey(cid, taskId));
                _progress.DeleteClient(taskId, cid);
            }

            if (task.Created && _dfgetTasks.ListByTask(taskId).Count == 0)
            {
                _progress.DeleteTask(taskId);
                _tasks.Remove(taskId);
            }
            else if (task.ShouldTriggerCdn)
            {
                // We claimed the CDN run but did not start it: let the next registration claim it again.
                _tasks.CompleteCdn(taskId, new CdnResult(false, -1, -1, null, false, "registration failed"));
            }
        }

        if (peerCreated)
        {
            _peers.Delete(peer.Id);
            _progress.DeletePeer(peer.Id);
        }
    }

    private ValidatedRegistration Validate(RegistrationRequest request)
    {
        if (!TaskIdentity.IsHttpUrl(request.RawUrl) || request.RawUrl.Length > MaxFieldLength
            || !Uri.TryCreate(request.RawUrl, UriKind.Absolute, out var uri))
        {
            throw DragonflyException.Invalid($"raw url: {request.RawUrl}");
        }

        if (!Cid.TryParse(request.Cid, out var cid))
        {
            throw DragonflyException.Invalid($"cid: {request.Cid}");
        }

        if (!IsSafePath(request.Path))
        {
            throw DragonflyException.Invalid($"path: {request.Path}");
        }

        var taskUrl = string.IsNullOrEmpty(request.TaskUrl) ? TaskIdentity.FilterUrl(request.RawUrl, request.Filter) : request.TaskUrl;
        if (!TaskIdentity.IsHttpUrl(taskUrl) || taskUrl.Length > MaxFieldLength)
        {
            throw DragonflyException.Invalid($"task url: {taskUrl}");
        }

        var md5 = string.IsNullOrEmpty(request.Md5) ? null : request.Md5;
        if (md5 is not null && !Md5Hex.IsMd5(md5))
        {
            throw DragonflyException.Invalid($"md5: {md5}");
        }

        var identifier = string.IsNullOrEmpty(request.Identifier) ? null : request.Identifier;
        if (identifier is { Length: > MaxFieldLength } || request.CallSystem is { Length: > 256 })
        {
            throw DragonflyException.Invalid("identifier or callSystem too long");
        }

        var supernodeIp = string.IsNullOrEmpty(request.SupernodeIp) ? _options.AdvertiseIp : request.SupernodeIp;
        if (!IsHost(supernodeIp))
        {
            throw DragonflyException.Invalid($"superNodeIp: {supernodeIp}");
        }

        PeerPattern? pattern = request.Pattern?.ToUpperInvariant() switch
        {
            null or "" => null,
            "P2P" => PeerPattern.P2P,
            "CDN" => PeerPattern.Cdn,
            "SOURCE" => PeerPattern.Source,
            _ => throw DragonflyException.Invalid($"pattern: {request.Pattern}"),
        };

        PeerId? existingPeer = null;
        if (!string.IsNullOrEmpty(request.PeerId))
        {
            existingPeer = PeerId.TryParse(request.PeerId, out var parsed) ? parsed : throw DragonflyException.Invalid($"peerID: {request.PeerId}");
        }

        var headers = MergeHeaders(TaskHeaders.Parse(request.Headers), TaskHeaders.FromMap(request.HeaderMap));
        var spec = new TaskSpec(request.RawUrl, taskUrl, md5, identifier, headers, request.Insecure, request.RootCAs);
        return new ValidatedRegistration(cid, spec, new OriginRequest(uri, headers, request.Insecure, request.RootCAs), supernodeIp, pattern, existingPeer);
    }

    private static IReadOnlyDictionary<string, string> MergeHeaders(IReadOnlyDictionary<string, string> first, IReadOnlyDictionary<string, string> second)
    {
        if (second.Count == 0)
        {
            return first;
        }

        var merged = new Dictionary<string, string>(first, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in second)
        {
            merged[key] = merged.TryGetValue(key, out var existing) ? existing + "," + value : value;
        }

        return merged;
    }

    /// <summary>An uploader path: starts with <c>/</c>, printable ASCII, no spaces, no <c>..</c> segment.</summary>
    private static bool IsSafePath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > MaxFieldLength || path[0] != '/' || path.Contains("/../", StringComparison.Ordinal)
            || path.EndsWith("/..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in path)
        {
            if (c <= ' ' || c >= 0x7F)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsHost(string value) =>
        IPAddress.TryParse(value, out _) || Uri.CheckHostName(value) == UriHostNameType.Dns;

    private sealed record ValidatedRegistration(Cid Cid, TaskSpec Spec, OriginRequest Origin, string SupernodeIp, PeerPattern? Pattern, PeerId? ExistingPeer);

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeTasks + 20, Level = LogLevel.Information, Message = "Registered {DfgetTask} as peer {PeerId} (new task: {Created})")]
        public static partial void Registered(ILogger logger, DfgetTaskKey dfgetTask, PeerId peerId, bool created);

        [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeTasks + 21, Level = LogLevel.Warning, Message = "Registration for {Url} failed: {Error}")]
        public static partial void RegistrationFailed(ILogger logger, string url, string error);
    }
}
