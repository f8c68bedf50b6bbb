using Dragonfly.Common.Logging;

namespace Dragonfly.Supernode.Api;

/// <summary>Source-generated log messages of the API surfaces.</summary>
internal static partial class ApiLog
{
    [LoggerMessage(EventId = EventIds.SupernodeApi + 1, Level = LogLevel.Warning, Message = "Request {Path} failed with HTTP {Status}: {Message}")]
    public static partial void RequestFailed(ILogger logger, string path, int status, string message);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 6, Level = LogLevel.Error, Message = "Request {Method} {Path} failed unexpectedly; answered HTTP {Status}")]
    public static partial void RequestCrashed(ILogger logger, string method, string path, int status, Exception exception);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 2, Level = LogLevel.Information, Message = "Supernode API listening on port {ApiPort}, pieces on port {DownloadPort}, advertising {AdvertiseIp}")]
    public static partial void Listening(ILogger logger, int apiPort, int downloadPort, string advertiseIp);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 3, Level = LogLevel.Information, Message = "Supernode registered itself as CDN peer {PeerId}")]
    public static partial void SelfRegistered(ILogger logger, string peerId);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 7, Level = LogLevel.Information, Message = "Sources are fetched only from addresses the source address policy allows: {Policy}")]
    public static partial void SourcePolicy(ILogger logger, string policy);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 4, Level = LogLevel.Warning, Message = "Bound port {Bound} differs from the reserved port {Reserved} ({Kind})")]
    public static partial void PortMismatch(ILogger logger, string kind, int reserved, int bound);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 5, Level = LogLevel.Information, Message = "dfget report: task {TaskId} cid {Cid} success {Success} in {Duration}s, reason {Reason}")]
    public static partial void DfgetReport(ILogger logger, string? taskId, string? cid, bool success, double duration, string? reason);
}
