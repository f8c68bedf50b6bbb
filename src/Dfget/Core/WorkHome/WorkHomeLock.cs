namespace Dragonfly.Dfget.WorkHome;

/// <summary>
/// An exclusive, process-wide lock on a work home's meta directory (an <c>flock</c>ed file), so exactly one uploader serves
/// and cleans a data dir: two uploaders sharing one dir deleted each other's files in the original (#1378).
/// The operating system releases it when the holder dies.
/// </summary>
public sealed class WorkHomeLock : IDisposable
{
    private readonly FileStream _stream;

    private WorkHomeLock(FileStream stream, string path)
    {
        _stream = stream;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Takes the lock, or returns null when another process (or another holder in this one) has it.</summary>
    public static WorkHomeLock? TryAcquire(string lockPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(lockPath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(lockPath))!);
        try
        {
            var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            return new WorkHomeLock(stream, lockPath);
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();
}
