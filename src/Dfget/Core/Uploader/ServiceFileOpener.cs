using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Dfget.Uploader;

/// <summary>What <see cref="ServiceFileOpener.Open"/> found at a task's path.</summary>
public enum ServiceFileOpenStatus
{
    /// <summary>A regular file, open for reading.</summary>
    Opened,

    /// <summary>Nothing there (or a directory).</summary>
    Missing,

    /// <summary>A symbolic link, a FIFO, a socket or a device: never served, whatever it leads to.</summary>
    NotRegular,

    /// <summary>A regular file that cannot be opened (permissions, I/O error).</summary>
    Failed,
}

/// <summary>The outcome of <see cref="ServiceFileOpener.Open"/>; the caller owns <see cref="Handle"/> when opened.</summary>
public readonly record struct ServiceFileOpenResult(ServiceFileOpenStatus Status, SafeFileHandle? Handle, string Error)
{
    public static ServiceFileOpenResult Fail(ServiceFileOpenStatus status, string error) => new(status, null, error);
}

/// <summary>
/// Opens a task's <c>.service</c> file for the uploader only when it is a regular file: whoever can write the data dir
/// must not make the uploader read another file through a symbolic link, nor hang it on a FIFO (whose plain read-only
/// open blocks until a writer comes). On Linux the file is opened without following a final symbolic link and without
/// blocking (<c>O_NOFOLLOW | O_NONBLOCK</c>), then the open descriptor is checked to be a regular file that is the very
/// entry at the path (<c>statx</c> of both, same device and inode), so no swap between the checks and the open slips
/// through; the checked file is then opened again through <c>/proc/self/fd</c> as the handle the uploader sends from.
/// Elsewhere the entry is checked (no link, exists) before a plain open.
/// </summary>
public static class ServiceFileOpener
{
    public static ServiceFileOpenResult Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);

        // The link check by lstat first, on every platform: cheap, and it keeps a symlink from ever being opened where
        // O_NOFOLLOW is not known.
        FileInfo info;
        try
        {
            info = new FileInfo(path);
            if (info.LinkTarget is not null || (info.Exists && info.Attributes.HasFlag(FileAttributes.ReparsePoint)))
            {
                return ServiceFileOpenResult.Fail(ServiceFileOpenStatus.NotRegular, "a symbolic link");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ServiceFileOpenResult.Fail(ServiceFileOpenStatus.Failed, e.Message);
        }

        if (!info.Exists)
        {
            return ServiceFileOpenResult.Fail(ServiceFileOpenStatus.Missing, "no such file");
        }

        return OperatingSystem.IsLinux() ? OpenOnLinux(path) : OpenManaged(path);
    }

    private static ServiceFileOpenResult OpenManaged(string path)
    {
        try
        {
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
            return new ServiceFileOpenResult(ServiceFileOpenStatus.Opened, handle, string.Empty);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return ServiceFileOpenResult.Fail(ServiceFileOpenStatus.Missing, "no such file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ServiceFileOpenResult.Fail(ServiceFileOpenStatus.Failed, e.Message);
        }
    }

    private static ServiceFileOpenResult OpenOnLinux(string path)
    {
        var fd = Linux.open(path, Linux.ReadOnlyNoFollowNonBlocking());
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                Linux.ENOENT or Linux.ENOTDIR => ServiceFileOpenResult.Fail(ServiceFileOpenStatus.Missing, "no such file"),
                Linux.ELOOP => ServiceFileOpenResult.Fail(ServiceFileOpenStatus.NotRegular, "a symbolic link"),

                // What open(2) says of a socket (ENXIO) or a device without a driver: there was no regular file to open.
                Linux.ENXIO or Linux.ENODEV => ServiceFileOpenResult.Fail(ServiceFileOpenStatus.NotRegular, "not a regular file"),
                _ => ServiceFileOpenResult.Fail(ServiceFileOpenStatus.Failed, Marshal.GetPInvokeErrorMessage(errno)),
            };
        }

        using var probe = new SafeFileHandle(fd, ownsHandle: true);
        var verdict = CheckOpened(probe, path);
        return verdict.Status == ServiceFileOpenStatus.Opened ? Reopen(probe, path) : verdict;
    }

    /// <summary>
    /// The checked file opened again the way .NET opens files (an asynchronous handle, which the uploader's senders
    /// require and a raw descriptor cannot be made into), through <c>/proc/self/fd</c>: that reaches the very file the
    /// probe holds, whatever the path names by now. Without <c>/proc</c> the path is opened again and must still be that file.
    /// </summary>
    private static ServiceFileOpenResult Reopen(SafeFileHandle probe, string path)
    {
        var viaProc = "/proc/self/fd/" + ((int)probe.DangerousGetHandle()).ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            var handle = File.OpenHandle(viaProc, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
            return new ServiceFileOpenResult(ServiceFileOpenStatus.Opened, handle, string.Empty);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc here (a bare chroot): the path again, checked against the probe afterwards. Only a swap within
            // these microseconds could still put a FIFO in the way of this plain open.
        }

        var reopened = OpenManaged(path);
        if (reopened.Status != ServiceFileOpenStatus.Opened)
        {
            return reopened;
        }

        Span<byte> first = stackalloc byte[Linux.StatxSize];
        Span<byte> second = stackalloc byte[Linux.StatxSize];

        // Where statx is missing too, the probe's seek check is all there is.
        if (!Linux.Stat(probe, first) || !Linux.Stat(reopened.Handle!, second) || Linux.SameFile(first, second))
        {
            return reopened;
        }

        reopened.Handle!.Dispose();
        return ServiceFileOpenResult.Fail(ServiceFileOpenStatus.NotRegular, "replaced while it was opened");
    }

    /// <summary>
    /// Whether the open descriptor is a regular file and the entry at <paramref name="path"/> is that same file, not a link.
    /// Without <c>statx</c> (a C library or kernel too old) a descriptor that cannot seek (FIFO, socket) is refused instead.
    /// </summary>
    private static ServiceFileOpenResult CheckOpened(SafeFileHandle handle, string path)
    {
        Span<byte> opened = stackalloc byte[Linux.StatxSize];
        Span<byte> entry = stackalloc byte[Linux.StatxSize];
        int openedResult, entryResult;
        try
        {
            openedResult = Linux.statx((int)handle.DangerousGetHandle(), string.Empty, Linux.AT_EMPTY_PATH, Linux.STATX_TYPE | Linux.STATX_INO, ref MemoryMarshal.GetReference(opened));
            entryResult = openedResult == 0
                ? Linux.statx(Linux.AT_FDCWD, path, Linux.AT_SYMLINK_NOFOLLOW, Linux.STATX_TYPE | Linux.STATX_INO, ref MemoryMarshal.GetReference(entry))
                : openedResult;
        }
        catch (EntryPointNotFoundException)
        {
            return CheckSeekable(handle);
        }

        if (openedResult != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is Linux.ENOSYS or Linux.EPERM ? CheckSeekable(handle) : ServiceFileOpenResult.Fail(ServiceFileOpenStatus.Failed, Marshal.GetPInvokeErrorMessage(errno));
        }

        if (!Linux.IsRegular(opened))
        {
            return ServiceFileOpenResult.Fail(ServiceFileOpenStatus.NotRegular, "not a regular file");
        }

        if (entryResult != 0)
        {
            // Deleted since the open: the client gave the file up.
            return ServiceFileOpenResult.Fail(ServiceFileOpenStatus.Missing, "no such file");
        }

        return Linux.IsRegular(entry) && Linux.SameFile(opened, entry)
            ? new ServiceFileOpenResult(ServiceFileOpenStatus.Opened, null, string.Empty)
            : ServiceFileOpenResult.Fail(ServiceFileOpenStatus.NotRegular, "replaced while it was opened");
    }

    private static ServiceFileOpenResult CheckSeekable(SafeFileHandle handle)
    {
        try
        {
            _ = RandomAccess.GetLength(handle);
            return new ServiceFileOpenResult(ServiceFileOpenStatus.Opened, null, string.Empty);
        }
        catch (NotSupportedException)
        {
            return ServiceFileOpenResult.Fail(ServiceFileOpenStatus.NotRegular, "not a regular file");
        }
    }

    private static class Linux
    {
        public const int ENOENT = 2;
        public const int EPERM = 1;
        public const int ENXIO = 6;
        public const int ENODEV = 19;
        public const int ENOTDIR = 20;
        public const int ENOSYS = 38;
        public const int ELOOP = 40;

        public const int AT_FDCWD = -100;
        public const int AT_SYMLINK_NOFOLLOW = 0x100;
        public const int AT_EMPTY_PATH = 0x1000;
        public const uint STATX_TYPE = 0x1;
        public const uint STATX_INO = 0x100;

        /// <summary><c>struct statx</c> is the same 256 bytes on every Linux architecture.</summary>
        public const int StatxSize = 256;

        private const int O_NONBLOCK = 0x800;
        private const int O_CLOEXEC = 0x80000;
        private const ushort S_IFMT = 0xF000;
        private const ushort S_IFREG = 0x8000;

        /// <summary>
        /// <c>O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW</c>. O_NOFOLLOW is the one flag whose value differs among the
        /// architectures .NET runs on (ARM and POWER use their own); where unknown it is left out, and the identity check
        /// after the open still refuses a link.
        /// </summary>
        public static int ReadOnlyNoFollowNonBlocking()
        {
            var noFollow = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 or Architecture.X86 or Architecture.S390x or Architecture.LoongArch64 or Architecture.RiscV64 => 0x20000,
                Architecture.Arm64 or Architecture.Arm or Architecture.Armv6 or Architecture.Ppc64le => 0x8000,
                _ => 0,
            };
            return O_NONBLOCK | O_CLOEXEC | noFollow;
        }

        /// <summary><c>statx</c> of an open descriptor; false when it fails or is not there.</summary>
        public static bool Stat(SafeFileHandle handle, Span<byte> buffer)
        {
            try
            {
                return statx((int)handle.DangerousGetHandle(), string.Empty, AT_EMPTY_PATH, STATX_TYPE | STATX_INO, ref MemoryMarshal.GetReference(buffer)) == 0;
            }
            catch (EntryPointNotFoundException)
            {
                return false;
            }
        }

        public static bool IsRegular(ReadOnlySpan<byte> statx) => (MemoryMarshal.Read<ushort>(statx[28..]) & S_IFMT) == S_IFREG;

        /// <summary>Same inode (offset 32) on the same device (major and minor at 136 and 140).</summary>
        public static bool SameFile(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) =>
            MemoryMarshal.Read<ulong>(a[32..]) == MemoryMarshal.Read<ulong>(b[32..])
            && MemoryMarshal.Read<ulong>(a[136..]) == MemoryMarshal.Read<ulong>(b[136..]);

        /// <summary><c>open(2)</c> without the mode argument (read only when creating, which this never does).</summary>
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, ref byte buffer);
    }
}
