using System.Globalization;
using System.Text.RegularExpressions;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests.Support;

/// <summary>
/// A whole system on loopback made of real processes: the published <c>supernode</c> (both ports chosen free), an in-process
/// Kestrel origin, and any number of <c>dfget</c> runs, each with its own work home under one temp dir. Dispose kills the
/// supernode and every detached uploader whose command line names this swarm's temp dir.
/// </summary>
public sealed partial class Swarm : IAsyncDisposable
{
    private readonly List<ProcessHost> _supernodes = [];

    private Swarm(TempDirectory dir, OriginServer origin)
    {
        Dir = dir;
        Origin = origin;
    }

    public TempDirectory Dir { get; }

    public OriginServer Origin { get; }

    public IReadOnlyList<SupernodeProcess> Supernodes => _supernodeInfos;

    private readonly List<SupernodeProcess> _supernodeInfos = [];

    public static async Task<Swarm> StartAsync(int supernodes, CancellationToken cancellationToken)
    {
        var dir = new TempDirectory("dragonfly-e2e-");
        var origin = await OriginServer.StartAsync(cancellationToken);
        var swarm = new Swarm(dir, origin);
        for (var i = 0; i < supernodes; i++)
        {
            await swarm.StartSupernodeAsync(cancellationToken);
        }

        return swarm;
    }

    public async Task<SupernodeProcess> StartSupernodeAsync(CancellationToken cancellationToken, string? home = null, int? port = null, int? downloadPort = null)
    {
        var index = _supernodeInfos.Count;

        // A port found free here can be taken before the supernode binds it (by another test's server, or as the local
        // port of an outgoing connection); ports chosen here are then chosen again.
        for (var attempt = 1; ; attempt++)
        {
            var info = new SupernodeProcess(
                home ?? Dir.Combine($"supernode{index}"),
                port ?? ProcessHost.FreeTcpPort(),
                downloadPort ?? ProcessHost.FreeTcpPort());
            var host = StartPublishedSupernode(info);
            _supernodes.Add(host);
            try
            {
                await WaitForPingAsync(info, cancellationToken);
            }
            catch (SupernodePortTakenException) when (attempt < 3 && port is null && downloadPort is null)
            {
                continue;
            }

            _supernodeInfos.Add(info);
            return info;
        }
    }

    /// <summary>
    /// Starts the published supernode on <paramref name="info"/>'s home and ports (and sets its <c>Host</c>); the caller
    /// owns the process and waits for it with <see cref="WaitForPingAsync"/>.
    /// </summary>
    public static ProcessHost StartPublishedSupernode(SupernodeProcess info, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        var host = ProcessHost.Start(
            DragonflyBinaries.PathOf("supernode"),
            [
                "--home-dir", info.Home, "--advertise-ip", "127.0.0.1",
                "--port", info.Port.ToString(CultureInfo.InvariantCulture),
                "--download-port", info.DownloadPort.ToString(CultureInfo.InvariantCulture),
            ],
            workingDirectory,
            environment);
        info.Host = host;
        return host;
    }

    /// <summary>
    /// Waits until <paramref name="info"/>'s supernode answers <c>/_ping</c> and, when it was started here, has said it
    /// listens on its ports: another process answering on a port this one failed to bind does not count.
    /// </summary>
    public static Task WaitForPingAsync(SupernodeProcess info, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        return SupernodeReadiness.WaitAsync(info.Port, info.Host, cancellationToken);
    }

    public string Home(string name) => Dir.Combine("homes", name);

    public string Output(string name) => Dir.Combine("out", name);

    /// <summary>Runs <c>dfget</c> to completion with <c>--home</c> set to a per-peer home and the swarm's supernodes as <c>-n</c>.</summary>
    public async Task<DfgetRun> DfgetAsync(
        string peer, Uri url, IEnumerable<string> extraArgs, CancellationToken cancellationToken, bool withNodes = true, IDictionary<string, string>? environment = null)
    {
        Directory.CreateDirectory(Dir.Combine("out"));
        var args = new List<string>
        {
            "-u", url.ToString(), "-o", Output(peer), "--home", Home(peer),
            "--ip", "127.0.0.1", "--alivetime", "60s",
        };
        if (withNodes && _supernodeInfos.Count > 0)
        {
            args.AddRange(["-n", string.Join(',', _supernodeInfos.Select(s => $"127.0.0.1:{s.Port}"))]);
        }

        args.AddRange(extraArgs);
        var (exit, output) = await ProcessHost.RunAsync(DragonflyBinaries.PathOf("dfget"), args, cancellationToken, Dir.Path, environment);
        return new DfgetRun(peer, exit, output, Output(peer));
    }

    /// <summary>Kills the detached uploader (<c>dfget server</c>) serving <paramref name="peer"/>'s home.</summary>
    public int KillUploader(string peer) => KillProcesses(Home(peer));

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _supernodes)
        {
            await s.DisposeAsync();
        }

        KillProcesses(Dir.Path);
        await Origin.DisposeAsync();
        Dir.Dispose();
    }

    /// <summary>Kills every process whose command line contains <paramref name="marker"/> (detached uploaders).</summary>
    public static int KillProcesses(string marker)
    {
        var killed = 0;
        foreach (var pidDir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(pidDir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(pidDir, "cmdline")).Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (cmdline.Contains(marker, StringComparison.Ordinal) && cmdline.Contains(" server", StringComparison.Ordinal))
            {
                try
                {
                    using var p = System.Diagnostics.Process.GetProcessById(pid);
                    p.Kill(entireProcessTree: true);
                    killed++;
                }
                catch (ArgumentException)
                {
                }
                catch (InvalidOperationException)
                {
                }
            }
        }

        return killed;
    }
}

public sealed record SupernodeProcess(string Home, int Port, int DownloadPort)
{
    public ProcessHost? Host { get; set; }
}

/// <summary>One finished dfget run: exit code, console output, and the byte accounting it printed.</summary>
public sealed partial record DfgetRun(string Peer, int ExitCode, string Output, string OutputPath)
{
    public long FromPeers => Bytes("peers");

    public long FromSupernode => Bytes("supernode");

    public long FromOrigin => Bytes("origin");

    /// <summary>The back-source reason printed on the final line (<c>reason:N</c>), or -1.</summary>
    public int Reason
    {
        get
        {
            var m = ReasonRegex().Matches(Output);
            return m.Count == 0 ? -1 : int.Parse(m[^1].Groups[1].Value, CultureInfo.InvariantCulture);
        }
    }

    public bool Succeeded => ExitCode == 0 && Output.Contains("download SUCCESS", StringComparison.Ordinal);

    private long Bytes(string source)
    {
        var m = Regex.Match(Output, $@"from {source}: (\d+)");
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
    }

    [GeneratedRegex(@"reason:(\d+)")]
    private static partial Regex ReasonRegex();

    public override string ToString() => $"{Peer}: exit {ExitCode}\n{Output}";
}
