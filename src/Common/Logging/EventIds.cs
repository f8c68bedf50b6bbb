namespace Dragonfly.Common.Logging;

/// <summary>Event-id ranges per program, so a log line's id says where it came from.</summary>
public static class EventIds
{
    public const int Common = 100;
    public const int Supernode = 1000;
    public const int SupernodeTasks = 1100;
    public const int SupernodePeers = 1200;
    public const int SupernodeCdn = 1300;
    public const int SupernodeProgress = 1400;
    public const int SupernodeScheduler = 1500;
    public const int SupernodeGc = 1600;
    public const int SupernodePreheat = 1700;
    public const int SupernodeApi = 1800;
    public const int SupernodeDownload = 1900;
    public const int Dfget = 2000;
    public const int DfgetUploader = 2500;
    public const int Dfdaemon = 3000;
}
