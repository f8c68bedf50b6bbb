using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// Removes <c>.service</c> files no task is registered under, which nothing else would ever delete: a download that gives
/// its file up deletes it and tells the uploader to forget the name (<c>/client/abandon</c>), so a failed delete leaves the
/// file behind for good; so does a download that died, or one registered with an uploader that stopped since. Removed are
/// regular files <c>&lt;task file name&gt;.service</c> in the top level of the data dirs that
/// <list type="bullet">
/// <item><description>no task is registered under (those expire as finished tasks or stay with their download);</description></item>
/// <item><description>either their download withdrew the name from this uploader (it gave the file up), or they lie in data
/// dirs this uploader owns (<see cref="UploaderOptions.OwnsDataDirs"/>) and were not written for <see cref="Age"/>;</description></item>
/// <item><description>no other open handle holds a lock on (Linux): .NET locks every file it opens (shared, unless
/// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> is set or the file system does not lock), so a download still writing its
/// file keeps it. Elsewhere only the age protects a download.</description></item>
/// </list>
/// Symbolic links, FIFOs, sockets and devices are never opened, followed or removed (<see cref="ServiceFileOpener"/>), and
/// sub-directories are not entered. A file that cannot be deleted is tried again on the next sweep and logged once.
/// </summary>
internal sealed partial class OrphanServiceFileSweeper
{
    /// <summary>Names whose failed delete was logged (once each), at most this many.</summary>
    private const int MaxRemembered = 10_000;

    private readonly UploaderOptions _options;
    private readonly UploadTaskRegistry _tasks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, byte> _undeletable = new(StringComparer.Ordinal);
    private readonly EnumerationOptions _topLevelFiles = new()
    {
        RecurseSubdirectories = false,
        AttributesToSkip = FileAttributes.ReparsePoint,
        IgnoreInaccessible = true,
        MatchType = MatchType.Simple,
        MatchCasing = MatchCasing.CaseSensitive,
    };

    public OrphanServiceFileSweeper(UploaderOptions options, UploadTaskRegistry tasks, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _tasks = tasks;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// How long a file no task tracks must have gone unwritten before it counts as left behind: the longer of the expire
    /// time (a finished file is kept that long after its last access) and the alive time (after which the uploader's
    /// shutdown takes a download that stopped writing for gone).
    /// </summary>
    public TimeSpan Age => _options.ExpireTime > _options.AliveTime ? _options.ExpireTime : _options.AliveTime;

    /// <summary>Deletes the orphaned files found now; returns how many.</summary>
    public int Sweep()
    {
        var removed = 0;
        foreach (var dir in _options.DataDirs)
        {
            foreach (var entry in ServiceFilesIn(dir))
            {
                if (TryRemove(entry))
                {
                    removed++;
                }
            }
        }

        return removed;
    }

    private FileInfo[] ServiceFilesIn(string dir)
    {
        try
        {
            return new DirectoryInfo(dir).GetFiles("*" + TaskFileNames.ServiceSuffix, _topLevelFiles);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private bool TryRemove(FileInfo entry)
    {
        var name = entry.Name[..^TaskFileNames.ServiceSuffix.Length];
        if (!TaskFileNames.IsValid(name) || _tasks.TryGet(name, out _))
        {
            return false;
        }

        var withdrawn = _tasks.IsWithdrawn(name);
        if (!withdrawn && !(_options.OwnsDataDirs && IsOld(entry.LastWriteTimeUtc)))
        {
            return false;
        }

        var opened = ServiceFileOpener.Open(entry.FullName);
        if (opened.Status != ServiceFileOpenStatus.Opened)
        {
            return false;
        }

        using (var handle = opened.Handle!)
        {
            // Checked again on the file itself: written since the listing, or a download holds it open, or registered meanwhile.
            if ((!withdrawn && !IsOld(File.GetLastWriteTimeUtc(handle))) || FileLocks.HeldElsewhere(handle) || _tasks.TryGet(name, out _))
            {
                return false;
            }

            try
            {
                File.Delete(entry.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (_undeletable.Count < MaxRemembered && _undeletable.TryAdd(name, 0))
                {
                    Log.DeleteFailed(_logger, entry.FullName, e);
                }

                return false;
            }
        }

        _undeletable.TryRemove(name, out _);
        Log.Removed(_logger, entry.FullName, withdrawn ? "its download gave it up" : "no task tracks it");
        return true;
    }

    /// <summary>Written at least <see cref="Age"/> ago (a file stamped in the future is not).</summary>
    private bool IsOld(DateTime lastWriteUtc) => _time.GetUtcNow() - new DateTimeOffset(lastWriteUtc, TimeSpan.Zero) >= Age;

    /// <summary>Advisory <c>flock</c> locks, as .NET takes them on the files it opens (Linux).</summary>
    private static class FileLocks
    {
        private const int LockExclusive = 2;
        private const int LockNonBlocking = 4;
        private const int WouldBlock = 11;

        /// <summary>
        /// Whether another open handle holds a lock on the file: turning this handle's own lock into an exclusive one is
        /// refused then. False where it cannot be told (not Linux, or locks unsupported).
        /// </summary>
        public static bool HeldElsewhere(SafeFileHandle handle)
        {
            if (!OperatingSystem.IsLinux())
            {
                return false;
            }

            try
            {
                return flock(handle, LockExclusive | LockNonBlocking) != 0 && Marshal.GetLastPInvokeError() == WouldBlock;
            }
            catch (EntryPointNotFoundException)
            {
                return false;
            }
        }

        [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern int flock(SafeFileHandle fd, int operation);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 26, Level = LogLevel.Information, Message = "Deleted {Path}, left behind: {Why}")]
        public static partial void Removed(ILogger logger, string path, string why);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 27, Level = LogLevel.Warning, Message = "Cannot delete {Path}, left behind by its download; trying again every sweep")]
        public static partial void DeleteFailed(ILogger logger, string path, Exception exception);
    }
}
