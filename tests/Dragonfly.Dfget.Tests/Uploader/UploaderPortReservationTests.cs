using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Dragonfly.Dfget.Uploader;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.Uploader;

public sealed class UploaderPortReservationTests
{
    private const int CloseOnExec = 0x80000; // O_CLOEXEC as /proc/<pid>/fdinfo reports it (octal 02000000)

    [Fact]
    public void TryReserve_SecondReservation_TakesTheNextCandidate()
    {
        var candidates = FreePorts(2);

        using var first = UploaderPortReservation.TryReserve("127.0.0.1", candidates);
        using var second = UploaderPortReservation.TryReserve("127.0.0.1", candidates);

        first!.Port.Should().Be(candidates[0]);
        second!.Port.Should().Be(candidates[1], "the first reservation listens on its port until its uploader has it");
    }

    [Fact]
    public void TryReserve_AnotherSocketListensOnTheCandidateBetweenBindAndListen_TakesTheNextCandidate()
    {
        var candidates = FreePorts(2);

        // Kestrel binds with SO_REUSEADDR, so Linux lets the reservation bind the same port until one of the two listens.
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        other.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        other.Bind(new IPEndPoint(IPAddress.Loopback, candidates[0]));
        var listens = 0;

        using var reservation = UploaderPortReservation.TryReserve(IPAddress.Loopback, candidates, socket =>
        {
            if (listens++ == 0)
            {
                ((IPEndPoint)socket.LocalEndPoint!).Port.Should().Be(candidates[0], "the bind beside the other socket succeeded");
                other.Listen();
            }

            socket.Listen(512);
        });

        listens.Should().Be(2);
        reservation!.Port.Should().Be(candidates[1], "the first candidate's listen failed: the other socket had it");
    }

    [Fact]
    public void TryReserve_ReservedPort_CannotBeBoundByAnotherSocket()
    {
        var candidates = FreePorts(1);
        using var reservation = UploaderPortReservation.TryReserve("127.0.0.1", candidates);

        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var bind = () => other.Bind(new IPEndPoint(IPAddress.Loopback, reservation!.Port));

        bind.Should().Throw<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
    }

    [Fact]
    public void WithInheritableCopy_CopyIsNotCloseOnExecAndClosedAfterwards()
    {
        using var reservation = UploaderPortReservation.TryReserve("127.0.0.1", FreePorts(1));

        var (descriptor, flags, target) = reservation!.WithInheritableCopy(text =>
        {
            var fd = UploaderPortReservation.ParseDescriptor(text)!.Value;
            return (fd, FdFlags(fd), LinkTarget(fd));
        });

        flags.Should().BeGreaterThanOrEqualTo(0, "the copy was open during the spawn");
        (flags & CloseOnExec).Should().Be(0, "a process started meanwhile must inherit it");
        target.Should().StartWith("socket:");
        LinkTarget(descriptor).Should().NotBe(target, "no later child may inherit it (the number may have been reused since, for something else)");
    }

    [Fact]
    public void TakeDescriptor_CopyIsCloseOnExec()
    {
        using var reservation = UploaderPortReservation.TryReserve("127.0.0.1", FreePorts(1));

        using var copy = new SafeSocketHandle(reservation!.TakeDescriptor(), ownsHandle: true);

        (FdFlags((int)copy.DangerousGetHandle()) & CloseOnExec).Should().NotBe(0, "a process another thread starts before the in-process server owns the copy must not inherit it");
    }

    [Fact]
    public void Dispose_ReleasesThePort()
    {
        var candidates = FreePorts(1);
        var reservation = UploaderPortReservation.TryReserve("127.0.0.1", candidates);
        reservation!.Dispose();

        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        other.Bind(new IPEndPoint(IPAddress.Loopback, candidates[0]));
        other.Listen();
    }

    [Fact]
    public void TryReserve_NotAnAddressOrNoCandidateFree_ReturnsNull()
    {
        var candidates = FreePorts(1);
        using var holder = UploaderPortReservation.TryReserve("127.0.0.1", candidates);

        UploaderPortReservation.TryReserve("localhost", FreePorts(1)).Should().BeNull();
        UploaderPortReservation.TryReserve("127.0.0.1", candidates).Should().BeNull();
        UploaderPortReservation.TryReserve("127.0.0.1", [0, 70000]).Should().BeNull();
    }

    [Theory]
    [InlineData("7", 7)]
    [InlineData("3", 3)]
    [InlineData("2", null)]
    [InlineData("-5", null)]
    [InlineData("x", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void ParseDescriptor_AcceptsOnlyNumbersAboveTheStandardStreams(string? text, int? expected) =>
        UploaderPortReservation.ParseDescriptor(text).Should().Be(expected);

    [Fact]
    public async Task PeerServer_WithTheReservedSocket_ServesOnItAndClosesItWhenStopped()
    {
        using var temp = new TempDirectory();

        // A port the kernel never hands out by itself: once the server lets it go, no other test's port-0 socket can
        // take it before the check below, and the check's own connect cannot land on it as its source port.
        var reservation = UploaderPortReservation.TryReserve("127.0.0.1", PortsBelowTheEphemeralRange(20))!;
        var port = reservation.Port;
        var descriptor = reservation.TakeDescriptor();
        ClearCloseOnExec(descriptor); // as a `dfget server` child inherits it
        var server = new PeerServer(Options(temp.Path, port, descriptor), NullLoggerFactory.Instance);
        reservation.Dispose();

        (await server.StartAsync(CancellationToken.None)).Should().Be(port);
        (FdFlags(descriptor) & CloseOnExec).Should().NotBe(0, "a process the server's process starts must not keep the port listening after the server closed it");
        using (var client = new HttpClient())
        {
            (await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/server/ping"))).Should().Be("success");
        }

        await server.DisposeAsync();
        using var after = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var connect = () => after.Connect(new IPEndPoint(IPAddress.Loopback, port));
        connect.Should().Throw<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused, "nothing listens on the port any more");
    }

    [Fact]
    public async Task PeerServer_DescriptorNotListeningOnItsPort_BindsItsPortInstead()
    {
        using var temp = new TempDirectory();
        var ports = FreePorts(2);
        using var reservation = UploaderPortReservation.TryReserve("127.0.0.1", [ports[0]])!;
        using var copy = new SafeSocketHandle(reservation.TakeDescriptor(), ownsHandle: true);
        var descriptor = (int)copy.DangerousGetHandle();
        await using var server = new PeerServer(Options(temp.Path, ports[1], descriptor), NullLoggerFactory.Instance);

        (await server.StartAsync(CancellationToken.None)).Should().Be(ports[1]);

        using var client = new HttpClient();
        (await client.GetStringAsync(new Uri($"http://127.0.0.1:{ports[1]}/server/ping"))).Should().Be("success");
        FdFlags(descriptor).Should().BeGreaterThanOrEqualTo(0, "the server left the descriptor it did not use to its owner");
    }

    private static UploaderOptions Options(string root, int port, int descriptor) => new()
    {
        BindAddress = IPAddress.Loopback,
        Port = port,
        ListenDescriptor = descriptor,
        DataDirs = [Path.Combine(root, "data")],
    };

    /// <summary>Ports the OS just handed out and took back: free now, with no promise beyond that.</summary>
    private static int[] FreePorts(int count)
    {
        var sockets = Enumerable.Range(0, count).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToArray();
        try
        {
            foreach (var socket in sockets)
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }

            return sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port).ToArray();
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>
    /// Candidate ports just below the kernel's ephemeral range (<c>ip_local_port_range</c>), from a random start, so that
    /// no socket bound to port 0 or connecting out is given one of them.
    /// </summary>
    private static int[] PortsBelowTheEphemeralRange(int count)
    {
        var low = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
        var start = Random.Shared.Next(Math.Max(1025, low - 8000), low - count);
        return Enumerable.Range(start, count).ToArray();
    }

    /// <summary>What one of this process's descriptors refers to (<c>socket:[inode]</c> for a socket), or null when it is not open.</summary>
    private static string? LinkTarget(int descriptor)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{descriptor}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void ClearCloseOnExec(int descriptor) =>
        NativeMethods.fcntl(descriptor, 2 /* F_SETFD */, 0).Should().Be(0);

    /// <summary>The open-file flags of one of this process's descriptors (<c>/proc/self/fdinfo</c>), or -1 when it is not open.</summary>
    private static int FdFlags(int descriptor)
    {
        var path = $"/proc/self/fdinfo/{descriptor}";
        if (!File.Exists(path))
        {
            return -1;
        }

        var line = File.ReadAllLines(path).Single(l => l.StartsWith("flags:", StringComparison.Ordinal));
        return Convert.ToInt32(line["flags:".Length..].Trim(), 8);
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int fcntl(int fd, int command, int argument);
    }
}
