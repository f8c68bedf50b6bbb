using System.Runtime.InteropServices;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// The few descriptor operations the uploader's socket hand-over needs that .NET does not offer (Linux: the constants are
/// Linux's, and <c>fcntl</c> is declared with fixed arguments, which its variadic ABI accepts on x86-64 and arm64 Linux):
/// copies that a child inherits or does not, and marking an inherited descriptor so that it goes no further.
/// </summary>
/// <remarks>
/// A listening socket stays open, and the kernel keeps completing connections to it, for as long as any process holds a
/// copy. A copy that leaks into an unrelated child (any process this one starts while the copy is not close-on-exec)
/// outlives the uploader that owned it: its port keeps accepting connections nobody will ever serve.
/// </remarks>
internal static class SocketDescriptor
{
    private const int DuplicateCloseOnExec = 1030; // F_DUPFD_CLOEXEC
    private const int GetDescriptorFlags = 1;      // F_GETFD
    private const int SetDescriptorFlags = 2;      // F_SETFD
    private const int CloseOnExec = 1;             // FD_CLOEXEC
    private const int FirstAfterStandardStreams = 3;

    /// <summary>A copy a process started meanwhile inherits (<c>dup</c> does not carry close-on-exec).</summary>
    /// <exception cref="IOException">No copy could be made (the descriptor table is full).</exception>
    public static int DuplicateInheritable(int descriptor) => Checked(NativeMethods.dup(descriptor), "duplicate");

    /// <summary>A copy no child ever inherits, made close-on-exec atomically (<c>F_DUPFD_CLOEXEC</c>).</summary>
    /// <exception cref="IOException">No copy could be made.</exception>
    public static int DuplicatePrivate(int descriptor) =>
        Checked(NativeMethods.fcntl(descriptor, DuplicateCloseOnExec, FirstAfterStandardStreams), "duplicate");

    /// <summary>
    /// Marks a descriptor this process inherited close-on-exec, so that no process it starts inherits it in turn. Linux
    /// only (the uploader's socket hand-over is); elsewhere it does nothing.
    /// </summary>
    /// <exception cref="IOException">The descriptor is not open.</exception>
    public static void KeepFromChildren(int descriptor)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var flags = Checked(NativeMethods.fcntl(descriptor, GetDescriptorFlags, 0), "read the flags of");
        if ((flags & CloseOnExec) == 0)
        {
            Checked(NativeMethods.fcntl(descriptor, SetDescriptorFlags, flags | CloseOnExec), "set close-on-exec on");
        }
    }

    public static void Close(int descriptor) => _ = NativeMethods.close(descriptor);

    private static int Checked(int result, string operation) =>
        result >= 0 ? result : throw new IOException($"cannot {operation} the uploader's listening socket (errno {Marshal.GetLastPInvokeError()})");

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "dup", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int dup(int fd);

        [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int fcntl(int fd, int command, int argument);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int close(int fd);
    }
}
