using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Storage;

/// <summary>
/// The supernode's CDN file store. Offset-based reads and writes (RandomAccess), so concurrent piece writers and
/// readers never share a file position. Only validated <see cref="TaskId"/>s name files.
/// </summary>
public interface IPieceStore
{
    /// <summary>Absolute path of a task's wrapped data file (<c>&lt;home&gt;/repo/download/&lt;3&gt;/&lt;taskId&gt;</c>).</summary>
    string DataPath(TaskId taskId);

    ValueTask WriteAsync(TaskId taskId, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    ValueTask<int> ReadAsync(TaskId taskId, long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    long Length(TaskId taskId);

    bool Exists(TaskId taskId);

    Task<string?> ReadTextAsync(TaskId taskId, string suffix, CancellationToken cancellationToken);

    /// <summary>Writes a side file (<c>.meta</c>, <c>.md5</c>) atomically: temp file, then rename.</summary>
    Task WriteTextAsync(TaskId taskId, string suffix, string content, CancellationToken cancellationToken);

    void Delete(TaskId taskId);

    /// <summary>Task ids that have files on disk (for disk GC).</summary>
    IEnumerable<TaskId> EnumerateTasks();
}
