using Dragonfly.Common.Logging;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Managers.Cdn;

public sealed partial class CDNMgr
{
    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.SupernodeCdn + 1, Level = LogLevel.Debug, Message = "CDN trigger for task {TaskId} joins the running one")]
        public static partial void Joined(ILogger logger, string taskId);

        [LoggerMessage(EventId = EventIds.SupernodeCdn + 2, Level = LogLevel.Information, Message = "CDN cache for task {TaskId}: {Kind} ({Reason})")]
        public static partial void Detected(ILogger logger, string taskId, CacheDecisionKind kind, string reason);

        [LoggerMessage(EventId = EventIds.SupernodeCdn + 3, Level = LogLevel.Error, Message = "CDN run for task {TaskId} faulted")]
        public static partial void RunFaulted(ILogger logger, string taskId, Exception exception);

        [LoggerMessage(EventId = EventIds.SupernodeCdn + 4, Level = LogLevel.Warning, Message = "CDN observer failed for task {TaskId}")]
        public static partial void ObserverFailed(ILogger logger, string taskId, Exception exception);

        [LoggerMessage(EventId = EventIds.SupernodeCdn + 5, Level = LogLevel.Information, Message = "CDN files of task {TaskId} deleted")]
        public static partial void Deleted(ILogger logger, string taskId);
    }
}
