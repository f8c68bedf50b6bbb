using System.Globalization;
using Dragonfly.FunctionalTests.Support;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>
/// The published supernode and dfdaemon started, as systemd and container images start services, from a working directory
/// with a tree below it (<c>/</c> in production): they must not watch that tree.
/// </summary>
public class DaemonWorkingDirectoryTests
{
    private const int Subdirectories = 30;

    [Fact]
    public async Task Supernode_StartedAboveADirectoryTree_WatchesNoFiles()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var dir = new TempDirectory("daemon-cwd-");
        var cwd = Tree(dir);
        var info = new SupernodeProcess(dir.Combine("supernode"), ProcessHost.FreeTcpPort(), ProcessHost.FreeTcpPort());
        await using var host = Swarm.StartPublishedSupernode(info, workingDirectory: cwd);
        await Swarm.WaitForPingAsync(info, cts.Token);

        InotifyWatches(host.Id).Should().Be(0, "the supernode reads its configuration once; before, it watched every directory under its working directory");
    }

    [Fact]
    public async Task Dfdaemon_StartedAboveADirectoryTree_WatchesNoFiles()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var dir = new TempDirectory("daemon-cwd-");
        var cwd = Tree(dir);
        var port = ProcessHost.FreeTcpPort();
        await using var host = ProcessHost.Start(
            DragonflyBinaries.PathOf("dfdaemon"),
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--workHome", dir.Combine("home"), "--node", "127.0.0.1:1"],
            workingDirectory: cwd);
        await host.WaitForLineAsync(line => line.Contains("listening on", StringComparison.Ordinal), cts.Token);

        InotifyWatches(host.Id).Should().Be(0, "dfdaemon reads its configuration once; before, it watched every directory under its working directory");
    }

    private static string Tree(TempDirectory dir)
    {
        var root = dir.Combine("cwd");
        for (var i = 0; i < Subdirectories; i++)
        {
            Directory.CreateDirectory(Path.Combine(root, $"d{i}", "sub"));
        }

        return root;
    }

    /// <summary>The inotify watches a process holds, over all its inotify descriptors (<c>/proc/&lt;pid&gt;/fdinfo</c>).</summary>
    private static int InotifyWatches(int pid) =>
        Directory.EnumerateFiles($"/proc/{pid}/fdinfo")
            .Sum(path =>
            {
                try
                {
                    return File.ReadLines(path).Count(line => line.StartsWith("inotify ", StringComparison.Ordinal));
                }
                catch (IOException)
                {
                    return 0; // the descriptor closed meanwhile
                }
            });
}
