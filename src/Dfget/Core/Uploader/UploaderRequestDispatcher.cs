using System.Globalization;
using System.Net;
using System.Text;
using Dragonfly.Common.Ids;
using Dragonfly.Common.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// The uploader's HTTP surface (all GET): <c>/peer/file/&lt;name&gt;</c>, <c>/check/&lt;name&gt;</c>, <c>/rate/&lt;name&gt;</c>,
/// <c>/client/finish</c>, <c>/client/abandon</c>, <c>/server/ping</c>. Paths are matched by hand so the raw name segment is validated before any
/// routing decodes it; anything else is 404. Usable as terminal middleware by any host (dfget server, dfdaemon, tests).
/// <c>/check/</c>, <c>/rate/</c>, <c>/client/finish</c> and <c>/client/abandon</c> steer the uploader (what it serves, deletes
/// and reports to which supernode, how the host upload limit is shared among this host's downloads), so only a local caller may use them
/// (<see cref="IsLocalCaller"/>): 403 for a peer. Once the uploader is stopping,
/// <c>/check/</c> and <c>/server/ping</c> answer 503, so no new download takes a port about to close.
/// </summary>
public sealed partial class UploaderRequestDispatcher
{
    private const string FilePrefix = "/peer/file/";
    private const string CheckPrefix = "/check/";
    private const string RatePrefix = "/rate/";
    private const string TextContentType = "application/octet-stream";
    private const string StoppingText = "the uploader is stopping";

    private readonly UploaderOptions _options;
    private readonly UploadTaskRegistry _tasks;
    private readonly UploadRateLimiter _limiter;
    private readonly UploaderActivity _activity;
    private readonly PieceRequestResolver _pieces;
    private readonly PieceSender _sender;
    private readonly ILogger _logger;
    private readonly string[] _dataDirs;

    public UploaderRequestDispatcher(
        UploaderOptions options,
        UploadTaskRegistry tasks,
        UploadRateLimiter limiter,
        UploaderActivity activity,
        PieceRequestResolver pieces,
        PieceSender sender,
        ILogger<UploaderRequestDispatcher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(limiter);
        ArgumentNullException.ThrowIfNull(activity);
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _tasks = tasks;
        _limiter = limiter;
        _activity = activity;
        _pieces = pieces;
        _sender = sender;
        _logger = logger;
        _dataDirs = options.DataDirs.Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d))).ToArray();
    }

    public Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var path = context.Request.Path.Value ?? string.Empty;
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            return WriteTextAsync(context, StatusCodes.Status405MethodNotAllowed, "method not allowed");
        }

        if (path.StartsWith(FilePrefix, StringComparison.Ordinal))
        {
            return UploadAsync(context, path[FilePrefix.Length..]);
        }

        if (path.StartsWith(CheckPrefix, StringComparison.Ordinal))
        {
            return IsLocalCaller(context.Connection) ? CheckAsync(context, path[CheckPrefix.Length..]) : ForbidAsync(context, "check");
        }

        if (path.StartsWith(RatePrefix, StringComparison.Ordinal))
        {
            return IsLocalCaller(context.Connection) ? RateAsync(context, path[RatePrefix.Length..]) : ForbidAsync(context, "rate");
        }

        return path switch
        {
            "/client/finish" => IsLocalCaller(context.Connection) ? FinishAsync(context) : ForbidAsync(context, "finish"),
            "/client/abandon" => IsLocalCaller(context.Connection) ? AbandonAsync(context) : ForbidAsync(context, "abandon"),
            "/server/ping" => _activity.IsStopping
                ? WriteTextAsync(context, StatusCodes.Status503ServiceUnavailable, StoppingText)
                : WriteTextAsync(context, StatusCodes.Status200OK, "success"),
            _ => WriteTextAsync(context, StatusCodes.Status404NotFound, "404 page not found"),
        };
    }

    private async Task UploadAsync(HttpContext context, string name)
    {
        var headers = context.Request.Headers;
        var resolved = _pieces.Resolve(name, headers.Range.ToString(), headers["pieceNum"].ToString(), headers["pieceSize"].ToString(), headers["cdnSource"].ToString());
        if (resolved.Status == PieceResolutionStatus.Ready)
        {
            using var handle = resolved.Plan.Handle;
            await _sender.SendAsync(context, resolved.Task!, resolved.Piece, resolved.Plan).ConfigureAwait(false);
            return;
        }

        if (resolved.Status == PieceResolutionStatus.InvalidName)
        {
            Log.RejectedName(_logger, "upload", name);
        }

        var status = resolved.Status switch
        {
            PieceResolutionStatus.InvalidName or PieceResolutionStatus.InvalidHeaders => StatusCodes.Status400BadRequest,
            PieceResolutionStatus.FileMissing => StatusCodes.Status404NotFound,
            PieceResolutionStatus.Unsatisfiable => StatusCodes.Status416RangeNotSatisfiable,
            _ => StatusCodes.Status500InternalServerError,
        };
        await WriteTextAsync(context, status, resolved.Error).ConfigureAwait(false);
    }

    private Task CheckAsync(HttpContext context, string name)
    {
        if (!TaskFileNames.IsValid(name))
        {
            Log.RejectedName(_logger, "check", name);
            return WriteTextAsync(context, StatusCodes.Status400BadRequest, "invalid taskFileName");
        }

        var headers = context.Request.Headers;
        var dataDir = headers["dataDir"].ToString();
        if (!TryAllowDataDir(dataDir, out var fullDataDir))
        {
            Log.RejectedDataDir(_logger, name, dataDir);
            return WriteTextAsync(context, StatusCodes.Status400BadRequest, "invalid dataDir: must be an existing absolute directory this uploader serves");
        }

        var totalLimit = headers["totalLimit"].ToString();
        long limit = 0;
        if (totalLimit.Length > 0 && !long.TryParse(totalLimit, NumberStyles.None, CultureInfo.InvariantCulture, out limit))
        {
            return WriteTextAsync(context, StatusCodes.Status400BadRequest, "invalid totalLimit");
        }

        if (!TaskFileNames.TryGetServicePath(fullDataDir, name, out var servicePath))
        {
            return WriteTextAsync(context, StatusCodes.Status400BadRequest, "invalid taskFileName");
        }

        if (!_activity.TryTouch())
        {
            return WriteTextAsync(context, StatusCodes.Status503ServiceUnavailable, StoppingText);
        }

        if (_tasks.TryRegister(name, fullDataDir, servicePath) is null)
        {
            Log.RegistryFull(_logger, name, _tasks.Capacity);
            return WriteTextAsync(context, StatusCodes.Status503ServiceUnavailable, "too many tasks registered");
        }

        // As the original: only a positive totalLimit changes the host limit, so a plain dfget (0) keeps the one that
        // dfget server --totallimit or an earlier dfget --totallimit set.
        if (limit > 0)
        {
            _limiter.SetLimit(limit);
        }

        Log.Registered(_logger, name, fullDataDir, _limiter.BytesPerSecond);
        return WriteTextAsync(context, StatusCodes.Status200OK, $"{name}@{_options.Version}");
    }

    private Task RateAsync(HttpContext context, string name)
    {
        if (!TaskFileNames.IsValid(name))
        {
            return WriteTextAsync(context, StatusCodes.Status400BadRequest, "invalid taskFileName");
        }

        if (!long.TryParse(context.Request.Headers["rateLimit"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var rate))
        {
            return WriteTextAsync(context, StatusCodes.Status400BadRequest, "invalid rateLimit");
        }

        _activity.Touch();
        var task = _tasks.TryGet(name, out var known) ? known : null;
        var sum = _tasks.SetRequestedRate(task, rate);
        if (task is null)
        {
            sum = UploadTaskRegistry.SaturatingAdd(sum, rate);
        }

        var granted = GrantRate(rate, sum, _limiter.BytesPerSecond);
        return WriteTextAsync(context, StatusCodes.Status200OK, granted.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The client's share of the host limit: its request scaled down when all unfinished tasks together ask for more.</summary>
    public static long GrantRate(long requested, long sumOfRequests, long totalLimit)
    {
        if (totalLimit <= 0 || sumOfRequests <= totalLimit || sumOfRequests <= 0)
        {
            return requested;
        }

        return (long)(((Int128)requested * totalLimit + sumOfRequests - 1) / sumOfRequests);
    }

    private Task FinishAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var name = query["taskFileName"].ToString();
        var taskId = query["taskID"].ToString();
        var cid = query["cid"].ToString();
        var superNode = query["superNode"].ToString();
        if (!TaskFileNames.IsValid(name)
            || !TaskId.TryParse(taskId, out _)
            || !Cid.TryParse(cid, out _)
            || (superNode.Length > 0 && !SupernodeAddress.TryParse(superNode, out _, out _)))
        {
            return WriteTextAsync(context, StatusCodes.Status400BadRequest, "invalid params");
        }

        if (!_tasks.TryGet(name, out var task))
        {
            // Only a task registered by /check/ is finished: a name never registered registers nothing (500, the
            // status of an unknown task file on /peer/file/).
            return WriteTextAsync(context, StatusCodes.Status500InternalServerError, $"unknown task file {name}");
        }

        _tasks.MarkFinished(task, taskId, cid, superNode.Length > 0 ? superNode : null);
        Log.Finished(_logger, name, taskId);
        return WriteTextAsync(context, StatusCodes.Status200OK, "success");
    }

    /// <summary>
    /// The downloading client gave the task up (cancelled, timed out, or fell back to the source) and deletes its file:
    /// the name is unregistered, and piece requests for it answer 404 from now on (<see cref="UploadTaskRegistry.Withdraw"/>).
    /// Answering again for a name already withdrawn is a success too.
    /// </summary>
    private Task AbandonAsync(HttpContext context)
    {
        var name = context.Request.Query["taskFileName"].ToString();
        if (!TaskFileNames.IsValid(name))
        {
            return WriteTextAsync(context, StatusCodes.Status400BadRequest, "invalid params");
        }

        if (_tasks.TryGet(name, out var task) && _tasks.Withdraw(task))
        {
            Log.Withdrawn(_logger, name, task.BytesServed);
        }
        else if (!_tasks.IsWithdrawn(name))
        {
            return WriteTextAsync(context, StatusCodes.Status500InternalServerError, $"unknown task file {name}");
        }

        return WriteTextAsync(context, StatusCodes.Status200OK, "success");
    }

    /// <summary>
    /// Whether the request comes from this host: a loopback address, or the connection's own local address (our dfget
    /// calls the uploader on the IP it is bound to).
    /// </summary>
    public static bool IsLocalCaller(ConnectionInfo connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.RemoteIpAddress is not { } remote)
        {
            return false;
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        if (IPAddress.IsLoopback(remote))
        {
            return true;
        }

        var local = connection.LocalIpAddress;
        if (local is { IsIPv4MappedToIPv6: true })
        {
            local = local.MapToIPv4();
        }

        return remote.Equals(local);
    }

    private Task ForbidAsync(HttpContext context, string route)
    {
        Log.RejectedRemote(_logger, route, context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        return WriteTextAsync(context, StatusCodes.Status403Forbidden, "only a local dfget may call this route");
    }

    private bool TryAllowDataDir(string dataDir, out string fullPath)
    {
        fullPath = string.Empty;
        if (dataDir.Length == 0 || dataDir.Length > 4096 || dataDir.Any(char.IsControl) || !Path.IsPathFullyQualified(dataDir))
        {
            return false;
        }

        fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir));
        if (!Directory.Exists(fullPath))
        {
            return false;
        }

        foreach (var root in _dataDirs)
        {
            if (fullPath == root)
            {
                return true;
            }

            if (fullPath.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                // A sub-directory is fine, but not through a symbolic link that leads out of the served tree.
                for (var dir = fullPath; dir.Length > root.Length; dir = Path.GetDirectoryName(dir)!)
                {
                    if (new DirectoryInfo(dir).LinkTarget is not null)
                    {
                        return false;
                    }
                }

                return true;
            }
        }

        return false;
    }

    private static Task WriteTextAsync(HttpContext context, int status, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = status;
        context.Response.ContentType = TextContentType;
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, 0, bytes.Length, context.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 1, Level = LogLevel.Warning, Message = "Rejected {Route} request for invalid task file name {TaskFileName}")]
        public static partial void RejectedName(ILogger logger, string route, string taskFileName);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 2, Level = LogLevel.Warning, Message = "Rejected check of {TaskFileName}: data dir {DataDir} is not served here")]
        public static partial void RejectedDataDir(ILogger logger, string taskFileName, string dataDir);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 3, Level = LogLevel.Information, Message = "Registered task {TaskFileName} in {DataDir}, host upload limit {TotalLimit} B/s")]
        public static partial void Registered(ILogger logger, string taskFileName, string dataDir, long totalLimit);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 5, Level = LogLevel.Warning, Message = "Rejected {Route} request from remote address {Remote}: only local callers may use it")]
        public static partial void RejectedRemote(ILogger logger, string route, string remote);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 6, Level = LogLevel.Warning, Message = "Refused to register {TaskFileName}: {Capacity} tasks are registered already")]
        public static partial void RegistryFull(ILogger logger, string taskFileName, int capacity);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 7, Level = LogLevel.Information, Message = "Task {TaskFileName} abandoned by its client; no longer served (it served {BytesServed} bytes to peers)")]
        public static partial void Withdrawn(ILogger logger, string taskFileName, long bytesServed);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 4, Level = LogLevel.Information, Message = "Task {TaskFileName} finished (taskId {TaskId}); serving it until expiry")]
        public static partial void Finished(ILogger logger, string taskFileName, string taskId);
    }
}
