using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// A candidate uploader port held by a listening socket from the moment a download chooses it until the
/// <c>dfget server</c> it starts has inherited that socket (Linux). Probing a port and letting the child bind it later left
/// a window in which every fresh work home on the host starting in the same five minutes chose the same first candidate:
/// all but one child then failed to bind, and their downloads registered a port that another home's uploader answered,
/// started a second uploader and registered again. A listening socket cannot be bound by anyone else, so each launcher
/// gets its own port, and the child serves on the socket it inherits (<see cref="ListenDescriptorVariable"/>) instead of
/// binding again.
/// </summary>
public sealed class UploaderPortReservation : IDisposable
{
    /// <summary>Tells <c>dfget server</c> which inherited descriptor is its listening socket.</summary>
    public const string ListenDescriptorVariable = "DRAGONFLY_UPLOADER_LISTEN_FD";

    private readonly Socket _socket;
    private int _inheritable;

    private UploaderPortReservation(Socket socket, int port, int inheritable)
    {
        _socket = socket;
        Port = port;
        _inheritable = inheritable;
    }

    /// <summary>The reserved port.</summary>
    public int Port { get; }

    /// <summary>
    /// A duplicate of the listening socket's descriptor without close-on-exec, which a started process inherits under
    /// the same number; -1 once disposed.
    /// </summary>
    public int InheritableDescriptor => Volatile.Read(ref _inheritable);

    /// <summary>The <see cref="ListenDescriptorVariable"/> value for the child.</summary>
    public string DescriptorText => InheritableDescriptor.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Listens on the first candidate that can be bound on <paramref name="bindIp"/>; null when none can, when the IP is not
    /// an address, or off Linux (where the caller falls back to <see cref="UploaderPortProbe"/>).
    /// </summary>
    public static UploaderPortReservation? TryReserve(string bindIp, IEnumerable<int> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (!OperatingSystem.IsLinux() || !IPAddress.TryParse(bindIp, out var address))
        {
            return null;
        }

        foreach (var port in candidates)
        {
            if (port is <= 0 or > IPEndPoint.MaxPort)
            {
                continue;
            }

            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(address, port));
                socket.Listen(512);
                var inheritable = NativeMethods.dup((int)socket.SafeHandle.DangerousGetHandle());
                if (inheritable < 0)
                {
                    socket.Dispose();
                    return null;
                }

                return new UploaderPortReservation(socket, port, inheritable);
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }

        return null;
    }

    /// <summary>
    /// Parses <see cref="ListenDescriptorVariable"/>: a descriptor number above the standard streams, or null.
    /// </summary>
    public static int? ParseDescriptor(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var fd) && fd > 2 ? fd : null;

    /// <summary>
    /// Hands the inheritable descriptor to a server in this process (<see cref="UploaderOptions.ListenDescriptor"/>), which
    /// then owns and closes it; <see cref="Dispose"/> leaves it open. -1 when already taken or disposed.
    /// </summary>
    public int TakeDescriptor() => Interlocked.Exchange(ref _inheritable, -1);

    /// <summary>
    /// Closes this process's copies. A started child keeps its inherited one, so the socket stays open and listening
    /// for as long as the child has it.
    /// </summary>
    public void Dispose()
    {
        var inheritable = Interlocked.Exchange(ref _inheritable, -1);
        if (inheritable >= 0)
        {
            _ = NativeMethods.close(inheritable);
        }

        _socket.Dispose();
    }

    private static class NativeMethods
    {
        // dup's copy does not carry close-on-exec, which .NET sets on every socket it creates.
        [DllImport("libc", EntryPoint = "dup", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int dup(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int close(int fd);
    }
}
