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
}
