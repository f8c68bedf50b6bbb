using System.Diagnostics;
using Dragonfly.Dfget.Uploader;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfget.Tests.Uploader;

public sealed class ServiceFileOpenerTests : IDisposable
{
    private readonly TempDirectory _dir = new("dfget-opener-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Open_RegularFile_OpensItForReading()
    {
        var path = _dir.Combine("a.service");
        await File.WriteAllBytesAsync(path, [1, 2, 3]);

        var result = ServiceFileOpener.Open(path);

        result.Status.Should().Be(ServiceFileOpenStatus.Opened);
        using var handle = result.Handle!;
        RandomAccess.GetLength(handle).Should().Be(3);
        var buffer = new byte[3];
        (await RandomAccess.ReadAsync(handle, buffer, 0)).Should().Be(3);
        buffer.Should().Equal(1, 2, 3);
    }

    [Fact]
    public void Open_NothingThere_IsMissing() =>
        ServiceFileOpener.Open(_dir.Combine("none.service")).Status.Should().Be(ServiceFileOpenStatus.Missing);

    [Fact]
    public void Open_Directory_IsMissing()
    {
        var path = Directory.CreateDirectory(_dir.Combine("d.service")).FullName;

        ServiceFileOpener.Open(path).Status.Should().Be(ServiceFileOpenStatus.Missing);
    }

    [Fact]
    public async Task Open_SymlinkToARegularFile_IsRefused()
    {
        var target = _dir.Combine("target");
        await File.WriteAllTextAsync(target, "secret");
        var link = _dir.Combine("link.service");
        File.CreateSymbolicLink(link, target);

        var result = ServiceFileOpener.Open(link);

        result.Status.Should().Be(ServiceFileOpenStatus.NotRegular);
        result.Handle.Should().BeNull();
    }

    [Fact]
    public void Open_DanglingSymlink_IsRefused()
    {
        var link = _dir.Combine("dangling.service");
        File.CreateSymbolicLink(link, _dir.Combine("nowhere"));

        ServiceFileOpener.Open(link).Status.Should().Be(ServiceFileOpenStatus.NotRegular);
    }

    [Fact]
    public async Task Open_Fifo_IsRefusedWithoutBlocking()
    {
        var path = _dir.Combine("fifo.service");
        await MakeFifoAsync(path);
        try
        {
            var result = await Task.Run(() => ServiceFileOpener.Open(path)).WaitAsync(TimeSpan.FromSeconds(10));

            result.Status.Should().Be(ServiceFileOpenStatus.NotRegular);
            result.Handle.Should().BeNull();
        }
        finally
        {
            ReleaseFifo(path);
        }
    }

    [Fact]
    public void Open_UnixSocket_IsRefusedAsNotRegular()
    {
        // open(2) of a socket fails (ENXIO) rather than opening something to check: still not a regular file, not an I/O fault.
        var path = _dir.Combine("socket.service");
        using var socket = BindUnixSocket(path);

        var result = ServiceFileOpener.Open(path);

        result.Status.Should().Be(ServiceFileOpenStatus.NotRegular);
        result.Handle.Should().BeNull();
    }

    /// <summary>A UNIX domain socket bound at <paramref name="path"/> (the entry stays until deleted).</summary>
    internal static System.Net.Sockets.Socket BindUnixSocket(string path)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>Creates a FIFO at <paramref name="path"/> with mkfifo(1).</summary>
    internal static async Task MakeFifoAsync(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        process.ExitCode.Should().Be(0);
        File.Exists(path).Should().BeTrue();
    }

    /// <summary>Opens the FIFO read-write and closes it: a reader blocked opening it (the bug) gets released.</summary>
    internal static void ReleaseFifo(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
        }
    }
}
