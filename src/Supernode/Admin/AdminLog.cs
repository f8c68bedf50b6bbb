using Dragonfly.Common.Logging;

namespace Dragonfly.Supernode.Admin;

/// <summary>Source-generated log messages of the admin token. None of them carries the token.</summary>
internal static partial class AdminLog
{
    [LoggerMessage(EventId = EventIds.SupernodeApi + 8, Level = LogLevel.Warning, Message = "Refused {Method} {Path} from {Remote} with HTTP {Status}: the management routes need the admin token")]
    public static partial void Refused(ILogger logger, string method, string path, string remote, int status);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 9, Level = LogLevel.Information, Message = "Management routes (preheats, task and peer deletion) need the admin token from {Source}; read-only views (peers, tasks, swarm, preheats) {Views}")]
    public static partial void Protected(ILogger logger, string source, string views);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 10, Level = LogLevel.Warning, Message = "Management routes (preheats, task and peer deletion) are open to anyone who reaches the API port, as in the original supernode: set adminTokenFile to protect them")]
    public static partial void Unprotected(ILogger logger);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 11, Level = LogLevel.Warning, Message = "Refused {Count} more requests to the management routes from {Client} within {Window} of the one logged (not logged one by one)")]
    public static partial void Suppressed(ILogger logger, long count, string client, string window);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 12, Level = LogLevel.Warning, Message = "Refused {Count} more requests to the management routes from clients beyond the {Capacity} tracked within {Window} of the one logged (not logged one by one)")]
    public static partial void SuppressedShared(ILogger logger, long count, int capacity, string window);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 13, Level = LogLevel.Warning, Message = "Locked {Client} out of the management routes for {Lockout} (HTTP 429, even with the right token) after {Failures} wrong admin tokens within {Window}")]
    public static partial void LockedOut(ILogger logger, string client, string lockout, int failures, string window);

    [LoggerMessage(EventId = EventIds.SupernodeApi + 14, Level = LogLevel.Warning, Message = "Locked every client beyond the {Capacity} tracked out of the management routes for {Lockout} (HTTP 429, even with the right token) after {Failures} wrong admin tokens from them within {Window}, the last from {Client}")]
    public static partial void LockedOutShared(ILogger logger, int capacity, string lockout, int failures, string window, string client);
}
