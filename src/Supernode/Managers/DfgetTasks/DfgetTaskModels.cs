using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.DfgetTasks;

/// <summary>A client's state in one task (wire <c>WAITING|RUNNING|FAILED|SUCCESS</c>).</summary>
public enum DfgetTaskStatus
{
    Waiting,
    Running,
    Failed,
    Success,
}

public static class DfgetTaskStatusText
{
    public static string ToWire(this DfgetTaskStatus status) => status switch
    {
        DfgetTaskStatus.Waiting => "WAITING",
        DfgetTaskStatus.Running => "RUNNING",
        DfgetTaskStatus.Failed => "FAILED",
        DfgetTaskStatus.Success => "SUCCESS",
        _ => "WAITING",
    };
}

/// <summary>One client's participation in one task (key <c>cid@taskId</c>; the wire DfGetTask).</summary>
/// <param name="Path">Where the client's uploader serves the file: <c>/peer/file/&lt;taskFileName&gt;</c>.</param>
/// <param name="SupernodeIp">The supernode IP the client registered with; supernode pieces point there.</param>
public sealed record DfgetTaskSnapshot(
    Cid Cid,
    TaskId TaskId,
    PeerId PeerId,
    string Path,
    int PieceSize,
    DfgetTaskStatus Status,
    string SupernodeIp,
    string? CallSystem,
    bool Dfdaemon,
    DateTimeOffset Created)
{
    public DfgetTaskKey Key => new(Cid, TaskId);
}
