using Dragonfly.Common.IO;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Dfget.Downloading;

/// <summary>
/// The file pieces are written into (the <c>.service</c> file, or the temp target in cdn pattern). Offset-based
/// <see cref="RandomAccess"/> writes, so concurrent piece writers never share a position.
/// </summary>
public sealed class PieceFile : IDisposable
{
    private readonly SafeFileHandle _handle;

    private PieceFile(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
    }

    public string Path { get; }

    internal SafeFileHandle Handle => _handle;

    /// <summary>
    /// Creates the file afresh. Whatever the path names already (a leftover, or a symbolic link someone with write access
    /// to the data dir planted there) is removed first, and the file is then created exclusively (<c>O_CREAT|O_EXCL</c>),
    /// so the download never writes through a link into another file; a link planted between the two steps fails the
    /// create instead of being followed.
    /// </summary>
    public static PieceFile Create(string path)
    {
        File.Delete(path);
        return new(path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous));
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        FileWrites.WriteAsync(_handle, data, offset, cancellationToken);

    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        RandomAccess.ReadAsync(_handle, buffer, offset, cancellationToken);

    public void SetLength(long length) => RandomAccess.SetLength(_handle, length);

    public long Length => RandomAccess.GetLength(_handle);

    public void Flush() => RandomAccess.FlushToDisk(_handle);

    public void Dispose() => _handle.Dispose();
}
