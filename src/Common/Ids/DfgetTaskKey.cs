namespace Dragonfly.Common.Ids;

/// <summary>The key of one client's participation in one task (the original's <c>cid@taskId</c>).</summary>
public readonly record struct DfgetTaskKey(Cid Cid, TaskId TaskId)
{
    public override string ToString() => $"{Cid.Value}@{TaskId.Value}";
}
