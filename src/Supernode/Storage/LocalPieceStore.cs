using System.Text;
using Dragonfly.Common.IO;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Cdn;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Supernode.Storage;

/// <summary>
/// <see cref="IPieceStore"/> on the local file system under <c>&lt;home&gt;/repo/download/&lt;taskId[0:3]&gt;/</c>.
/// Paths are built only from <see cref="TaskId"/> (64 hex) and a fixed set of suffixes, so no input can escape the root.
/// </summary>
public sealed class LocalPieceStore : IPieceStore
{
    private static readonly string[] Suffixes = [".meta", ".md5"];
    private readonly string _root;

    public LocalPieceStore(IOptions<CdnOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _root = options.Value.DownloadRoot;
    }

    public string Root => _root;

    public string DataPath(TaskId taskId)
    {
        if (taskId.IsEmpty)
        {
            throw new ArgumentException("empty task id", nameof(taskId));
        }

        return Path.Combine(_root, taskId.Shard, taskId.Value);
    }

    public async ValueTask WriteAsync(TaskId taskId, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var path = DataPath(taskId);
        SafeFileHandle handle;
        try
        {
            // Open, not OpenOrCreate: a file deleted under a running CDN fetch must not come back sparse.
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new PieceFileMissingException(taskId, path, e);
        }

        using (handle)
        {
            await FileWrites.WriteAsync(handle, data, offset, cancellationToken);
        }
    }

    public async ValueTask<int> ReadAsync(TaskId taskId, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        using var handle = OpenRead(taskId);
        if (handle is null)
        {
            return 0;
        }

        var total = 0;
        while (total < buffer.Length)
        {
            var read = await RandomAccess.ReadAsync(handle, buffer[total..], offset + total, cancellationToken);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    public SafeFileHandle? OpenRead(TaskId taskId)
    {
        try
        {
            return File.OpenHandle(DataPath(taskId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    public long Length(TaskId taskId)
    {
        var info = new FileInfo(DataPath(taskId));
        return info.Exists ? info.Length : -1;
    }

    public bool Exists(TaskId taskId) => File.Exists(DataPath(taskId));

    public void Truncate(TaskId taskId, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var path = DataPath(taskId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.SetLength(handle, length);
    }

    public async Task<string?> ReadTextAsync(TaskId taskId, string suffix, CancellationToken cancellationToken)
    {
        var path = SidePath(taskId, suffix);
        try
        {
            return await File.ReadAllTextAsync(path, Encoding.UTF8, cancellationToken);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    public async Task WriteTextAsync(TaskId taskId, string suffix, string content, CancellationToken cancellationToken)
    {
        var path = SidePath(taskId, suffix);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await File.WriteAllTextAsync(temp, content, new UTF8Encoding(false), cancellationToken);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public void DeleteSide(TaskId taskId, string suffix) => TryDelete(SidePath(taskId, suffix));

    public void Delete(TaskId taskId)
    {
        TryDelete(DataPath(taskId));
        foreach (var suffix in Suffixes)
        {
            TryDelete(SidePath(taskId, suffix));
        }
    }

    public IEnumerable<TaskId> EnumerateTasks()
    {
        if (!Directory.Exists(_root))
        {
            yield break;
        }

        var seen = new HashSet<TaskId>();
        foreach (var shard in Directory.EnumerateDirectories(_root))
        {
            foreach (var file in Directory.EnumerateFiles(shard))
            {
                var name = Path.GetFileName(file);
                if (name.EndsWith(".meta", StringComparison.Ordinal))
                {
                    name = name[..^".meta".Length];
                }

                if (TaskId.TryParse(name, out var id) && id.Value == name
                    && string.Equals(id.Shard, Path.GetFileName(shard), StringComparison.Ordinal) && seen.Add(id))
                {
                    yield return id;
                }
            }
        }
    }

    public long AvailableFreeSpace()
    {
        Directory.CreateDirectory(_root);
        return new DriveInfo(_root).AvailableFreeSpace;
    }

    private string SidePath(TaskId taskId, string suffix)
    {
        if (Array.IndexOf(Suffixes, suffix) < 0)
        {
            throw new ArgumentException($"unknown side file suffix '{suffix}'", nameof(suffix));
        }

        return DataPath(taskId) + suffix;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
