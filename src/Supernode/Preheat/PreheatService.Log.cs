namespace Dragonfly.Supernode.Preheat;

public sealed partial class PreheatService
{
    [LoggerMessage(EventId = Common.Logging.EventIds.SupernodePreheat + 1, Level = LogLevel.Information, Message = "Preheat {Id} of {Url} finished: success {Success} {Error}")]
    private static partial void LogFinished(ILogger logger, string id, string url, bool success, string? error);
}
