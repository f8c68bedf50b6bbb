using Dragonfly.Common.Ids;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Supernode.Storage;

/// <summary>
/// The supernode's CDN file store. Offset-based reads and writes (RandomAccess), so concurrent piece writers and
/// readers never share a file position. Only validated <see cref="TaskId"/>s name files, so nothing escapes the home dir.
/// </summary>
public interface IPieceStore
{
    /// <summary>Absolute path of a task's wrapped data file (<c>&lt;home&gt;/repo/download/&lt;3&gt;/&lt;taskId&gt;</c>).</summary>
    string DataPath(TaskId taskId);

    /// <summary>
    /// Writes at <paramref name="offset"/> of the data file, which must exist: <see cref="Truncate"/> creates it when a CDN
    /// run starts. A file that disappeared since (disk GC, an operator) is never created again here, which would leave
    /// zeros where the earlier pieces were: the write throws <see cref="PieceFileMissingException"/>.
    /// </summary>
    ValueTask WriteAsync(TaskId taskId, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Reads from the data file; returns 0 at end of file or when the file does not exist.</summary>
    ValueTask<int> ReadAsync(TaskId taskId, long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Opens the data file for offset reads (shared with writers and deleters), or null when it does not exist.</summary>
    SafeFileHandle? OpenRead(TaskId taskId);

    /// <summary>Length of the data file, or -1 when it does not exist.</summary>
    long Length(TaskId taskId);

    bool Exists(TaskId taskId);

    /// <summary>Cuts the data file to <paramref name="length"/> bytes (creating it when missing).</summary>
    void Truncate(TaskId taskId, long length);

    /// <summary>Reads a side file (<c>.meta</c>, <c>.md5</c>); null when missing.</summary>
    Task<string?> ReadTextAsync(TaskId taskId, string suffix, CancellationToken cancellationToken);

    /// <summary>Writes a side file (<c>.meta</c>, <c>.md5</c>) atomically: temp file, then rename.</summary>
    Task WriteTextAsync(TaskId taskId, string suffix, string content, CancellationToken cancellationToken);

    /// <summary>Removes one side file.</summary>
    void DeleteSide(TaskId taskId, string suffix);

    /// <summary>Removes the data file and every side file of the task.</summary>
    void Delete(TaskId taskId);

    /// <summary>Task ids that have a data or meta file on disk (for disk GC).</summary>
    IEnumerable<TaskId> EnumerateTasks();

    /// <summary>Free bytes on the volume holding the store.</summary>
    long AvailableFreeSpace();
}

/// <summary>The task's data file is gone (deleted by disk GC or an operator while a CDN run was writing it).</summary>
public sealed class PieceFileMissingException : IOException
{
    public PieceFileMissingException(TaskId taskId, string path, Exception? inner = null)
        : base($"data file {path} of task {taskId.Value} disappeared while the CDN was writing it", inner)
    {
        TaskId = taskId;
    }

    public TaskId TaskId { get; }
}
