using System.Globalization;
using System.Net;
using System.Net.Sockets;

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
/// <remarks>
/// .NET opens every socket close-on-exec, so the reservation itself is never inherited. Only
/// <see cref="WithInheritableCopy{T}"/> makes a copy a child can inherit, for the duration of one spawn; the starter runs
/// its spawns one at a time, so no other child of this process picks that copy up.
/// </remarks>
public sealed class UploaderPortReservation : IDisposable
{
    /// <summary>Tells <c>dfget server</c> which inherited descriptor is its listening socket.</summary>
    public const string ListenDescriptorVariable = "DRAGONFLY_UPLOADER_LISTEN_FD";

    private readonly Socket _socket;

    private UploaderPortReservation(Socket socket, int port)
    {
        _socket = socket;
        Port = port;
    }

    /// <summary>The reserved port.</summary>
    public int Port { get; }

    /// <summary>
    /// Listens on the first candidate that can be bound and listened on at <paramref name="bindIp"/>; null when none can,
    /// when the IP is not an address, or off Linux (where the caller falls back to <see cref="UploaderPortProbe"/>).
    /// </summary>
    public static UploaderPortReservation? TryReserve(string bindIp, IEnumerable<int> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (!OperatingSystem.IsLinux() || !IPAddress.TryParse(bindIp, out var address))
        {
            return null;
        }

        return TryReserve(address, candidates, static socket => socket.Listen(512));
    }

    /// <summary>
    /// Binds and then <paramref name="listen"/>s on each candidate in turn; the first that does both is the reservation.
    /// </summary>
    /// <remarks>
    /// A bind can succeed on a port that another socket has bound but not yet listens on (Linux lets two sockets share a
    /// port until one listens when the other set <c>SO_REUSEADDR</c>, as Kestrel does), and the listen then fails. That
    /// candidate is somebody else's: the next one is tried. Giving up instead sent the download to the bind-only probe,
    /// whose port a concurrent uploader could take before the child bound it (the child then failed, and the download
    /// had registered a port nobody of its own served).
    /// </remarks>
    internal static UploaderPortReservation? TryReserve(IPAddress address, IEnumerable<int> candidates, Action<Socket> listen)
    {
        foreach (var port in candidates)
        {
            if (UploaderPortProbe.TryBind(address, port) is not { } socket)
            {
                continue;
            }

            try
            {
                listen(socket);
                return new UploaderPortReservation(socket, ((IPEndPoint)socket.LocalEndPoint!).Port);
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
    /// Runs <paramref name="spawn"/> with the number (as <see cref="ListenDescriptorVariable"/> text) of a copy of the
    /// listening socket that a process started meanwhile inherits, and closes this process's copy when it returns.
    /// <paramref name="spawn"/> must start the process before it returns (<see cref="System.Diagnostics.Process.Start()"/>
    /// is synchronous): a task it returns would outlive the copy.
    /// </summary>
    /// <exception cref="IOException">No copy could be made (the descriptor table is full).</exception>
    public T WithInheritableCopy<T>(Func<string, T> spawn)
    {
        ArgumentNullException.ThrowIfNull(spawn);
        var copy = SocketDescriptor.DuplicateInheritable(Descriptor);
        try
        {
            return spawn(copy.ToString(CultureInfo.InvariantCulture));
        }
        finally
        {
            SocketDescriptor.Close(copy);
        }
    }

    /// <summary>
    /// A copy of the listening socket for a server in this process (<see cref="UploaderOptions.ListenDescriptor"/>), which
    /// owns and closes it; the reservation can then be disposed. The copy is close-on-exec: a process started by anyone
    /// in this process meanwhile would otherwise hold the port open after the server closed it.
    /// </summary>
    /// <exception cref="IOException">No copy could be made.</exception>
    public int TakeDescriptor() => SocketDescriptor.DuplicatePrivate(Descriptor);

    /// <summary>
    /// Closes this process's socket. A started child keeps its inherited copy, so the socket stays open and listening for
    /// as long as the child has it.
    /// </summary>
    public void Dispose() => _socket.Dispose();

    private int Descriptor => (int)_socket.SafeHandle.DangerousGetHandle();
}
