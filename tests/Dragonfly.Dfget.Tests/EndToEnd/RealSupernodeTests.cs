using Dragonfly.Common.Hashing;
using Dragonfly.Common.Nodes;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.EndToEnd;

/// <summary>
/// The engine against the real supernode (run as a child process on loopback ports) and a real origin. The supernode
/// executable is taken from <c>$DRAGONFLY_BIN</c>, else from the sibling build output of this test assembly; the tests
/// are skipped when it has not been built.
/// </summary>
public sealed class RealSupernodeTests : IAsyncLifetime
{
    private readonly Md5Batcher _md5 = new();

    private readonly TempDirectory _dir = new();
    private readonly DfgetHttpClients _clients = new();
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(60));
    private ProcessHost? _supernode;
    private OriginServer _origin = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _origin = await OriginServer.StartAsync();
        var exe = SupernodeFactAttribute.FindSupernode();
        if (exe is null)
        {
            return;
        }

        _port = ProcessHost.FreeTcpPort();
        var downloadPort = ProcessHost.FreeTcpPort();
        _supernode = ProcessHost.Start(exe, [
            "--port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--download-port", downloadPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--home-dir", _dir.Combine("supernode"),
            "--advertise-ip", "127.0.0.1",
        ]);
        await ProcessHost.WaitForPortAsync(_port, _cts.Token);
        await ProcessHost.WaitForPortAsync(downloadPort, _cts.Token);
    }

    public async Task DisposeAsync()
    {
        if (_supernode is not null)
        {
            await _supernode.DisposeAsync();
        }

        await _origin.DisposeAsync();
        _clients.Dispose();
        _cts.Dispose();
        _dir.Dispose();
    }

    [SupernodeFact]
    public async Task DownloadAsync_RealSupernode_DownloadsAllPiecesFromItsCdn()
    {
        var file = _origin.AddFile("/e2e.bin", (5 * 1024 * 1024) + 333, seed: 5);

        var result = await Engine().DownloadAsync(Request("/e2e.bin"), null, _cts.Token);

        result.Success.Should().BeTrue($"{result.Message} / supernode output: {_supernode!.Output}");
        result.BackSourceReason.Should().Be(0);
        result.Length.Should().Be(file.Length);
        result.Bytes.FromSupernode.Should().Be(file.Length);
        result.Bytes.FromSource.Should().Be(0);
        result.TaskId.Should().HaveLength(64);
        using var http = new HttpClient();
        var expected = Md5Hex.Of(await http.GetByteArrayAsync(_origin.Url("/e2e.bin"), _cts.Token));
        (await Md5Hex.OfFileAsync(_dir.Combine("out", "e2e.bin"), _cts.Token)).Should().Be(expected);
    }

    [SupernodeFact]
    public async Task DownloadAsync_RealSupernodeAsP2pPeer_RegistersThroughV1AndDownloads()
    {
        var file = _origin.AddFile("/p2p.bin", (3 * 1024 * 1024) + 17, seed: 9);
        var launcher = new Engine.FakeUploaderLauncher { Port = 15001 };

        var result = await Engine(launcher).DownloadAsync(Request("/p2p.bin") with { Pattern = DownloadPattern.P2p }, null, _cts.Token);

        result.Success.Should().BeTrue(result.Message);
        result.BackSourceReason.Should().Be(0);
        result.Bytes.FromSupernode.Should().Be(file.Length);
        launcher.Finished.Should().ContainSingle().Which.TaskId.Should().Be(result.TaskId);
        using var http = new HttpClient();
        var expected = Md5Hex.Of(await http.GetByteArrayAsync(_origin.Url("/p2p.bin"), _cts.Token));
        (await Md5Hex.OfFileAsync(_dir.Combine("out", "p2p.bin"), _cts.Token)).Should().Be(expected);
        Directory.GetFiles(_dir.Combine("home", "data"), "p2p.bin-*.service").Should().ContainSingle();
    }

    [SupernodeFact]
    public async Task DownloadAsync_RealSupernodeUploaderFailsAfterRegistering_ReRegistersAsCdnPeerAndDownloads()
    {
        var file = _origin.AddFile("/late.bin", (3 * 1024 * 1024) + 5, seed: 11);
        var serving = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var launcher = new Engine.FakeUploaderLauncher { Port = 15001, Serving = serving };
        var progress = new FirstPieceProgress(() => serving.TrySetResult(false));

        var result = await Engine(launcher).DownloadAsync(Request("/late.bin") with { Pattern = DownloadPattern.P2p }, progress, _cts.Token);

        result.Success.Should().BeTrue($"{result.Message} / supernode output: {_supernode!.Output}");
        result.BackSourceReason.Should().Be(0);
        result.Bytes.FromSource.Should().Be(0);
        launcher.Finished.Should().BeEmpty();
        using var http = new HttpClient();
        var expected = Md5Hex.Of(await http.GetByteArrayAsync(_origin.Url("/late.bin"), _cts.Token));
        (await Md5Hex.OfFileAsync(_dir.Combine("out", "late.bin"), _cts.Token)).Should().Be(expected);
        Directory.GetFiles(_dir.Combine("home", "data")).Should().BeEmpty();
        file.Length.Should().Be(result.Length);
    }

    [SupernodeFact]
    public async Task DownloadAsync_RealUploaderProcess_RegistersWhileItStartsAndItServesTheFileAfterwards()
    {
        var file = _origin.AddFile("/served.bin", (2 * 1024 * 1024) + 3, seed: 12);
        var home = new WorkHomeLayout(_dir.Combine("home"));
        using var launcher = RealLauncher();
        try
        {
            var result = await Engine(launcher).DownloadAsync(Request("/served.bin") with { Pattern = DownloadPattern.P2p }, null, _cts.Token);

            result.Success.Should().BeTrue($"{result.Message} / supernode output: {_supernode!.Output}");
            result.BackSourceReason.Should().Be(0);
            var port = await new HostMetaFile(home.HostMetaPath).ReadPortAsync(_cts.Token);
            port.Should().BeGreaterThan(0);
            var service = Directory.GetFiles(home.DataDir, "served.bin-*.service").Should().ContainSingle().Subject;
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/peer/file/{Path.GetFileNameWithoutExtension(service)}");
            request.Headers.TryAddWithoutValidation("Range", "bytes=0-99");
            request.Headers.TryAddWithoutValidation("pieceNum", "0");
            request.Headers.TryAddWithoutValidation("pieceSize", "4194304");
            using var response = await http.SendAsync(request, _cts.Token);
            ((int)response.StatusCode).Should().Be(206, "the uploader knows the task (its /check/ ran) and serves the finished file");
            file.Length.Should().Be(result.Length);
        }
        finally
        {
            await Cli.DfgetServerProcessTests.StopUploaderAsync(home, _cts.Token);
        }
    }

    [SupernodeFact]
    public async Task DownloadAsync_RealUploaderProcessCannotBindItsPort_DownloadsAsCdnPeer()
    {
        var file = _origin.AddFile("/taken.bin", (2 * 1024 * 1024) + 9, seed: 13);
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var takenPort = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var home = new WorkHomeLayout(_dir.Combine("home"));
        using var launcher = RealLauncher();
        try
        {
            var result = await Engine(launcher).DownloadAsync(Request("/taken.bin") with { Pattern = DownloadPattern.P2p, Port = takenPort }, null, _cts.Token);

            result.Success.Should().BeTrue($"{result.Message} / supernode output: {_supernode!.Output}");
            result.BackSourceReason.Should().Be(0);
            result.Bytes.FromSource.Should().Be(0);
            Directory.GetFiles(home.DataDir).Should().BeEmpty("no uploader serves the file");
            (await new HostMetaFile(home.HostMetaPath).ReadPortAsync(_cts.Token)).Should().Be(0);
            using var http = new HttpClient();
            var expected = Md5Hex.Of(await http.GetByteArrayAsync(_origin.Url("/taken.bin"), _cts.Token));
            (await Md5Hex.OfFileAsync(_dir.Combine("out", "taken.bin"), _cts.Token)).Should().Be(expected);
            file.Length.Should().Be(result.Length);
        }
        finally
        {
            await Cli.DfgetServerProcessTests.StopUploaderAsync(home, _cts.Token);
        }
    }

    [SupernodeFact]
    public async Task DownloadAsync_RealSupernodeSource404WithNotBs_FailsWithReason1001()
    {
        var result = await Engine().DownloadAsync(Request("/missing.bin") with { NotBackSource = true }, null, _cts.Token);

        result.Success.Should().BeFalse();
        result.BackSourceReason.Should().Be(1001);
        result.ExitCode.Should().Be(80);
        File.Exists(_dir.Combine("out", "e2e.bin")).Should().BeFalse();
    }

    private DownloadRequest Request(string path) => new()
    {
        Url = _origin.Url(path),
        Output = _dir.Combine("out", path.TrimStart('/')),
        WorkHome = new WorkHomeLayout(_dir.Combine("home")),
        Nodes = SupernodeList.Parse([$"127.0.0.1:{_port}"]),
        Pattern = DownloadPattern.Cdn,
    };

    private static Dragonfly.Dfget.Uploader.UploaderLauncher RealLauncher()
    {
        var (fileName, prefix) = Cli.DfgetServerProcessTests.DfgetCommand();
        return new Dragonfly.Dfget.Uploader.UploaderLauncher(
            new Dragonfly.Dfget.Uploader.UploaderLauncherOptions { StartTimeout = TimeSpan.FromSeconds(30) },
            new Dragonfly.Dfget.Uploader.DfgetProcessStarter(prefix.Count > 0 ? prefix[0] : fileName, NullLogger<Dragonfly.Dfget.Uploader.DfgetProcessStarter>.Instance),
            NullLogger<Dragonfly.Dfget.Uploader.UploaderLauncher>.Instance);
    }

    private DownloadOrchestrator Engine(Dragonfly.Dfget.Uploader.IUploaderLauncher? launcher = null) => RealEngine.Create(_clients, _md5, launcher);
}

/// <summary>Runs an action when the first piece is on disk (the P2P loop is then about to report it).</summary>
internal sealed class FirstPieceProgress(Action onFirstPiece) : IProgress<DownloadProgress>
{
    private int _seen;

    public void Report(DownloadProgress value)
    {
        if (value.Kind == DownloadProgressKind.PieceCompleted && Interlocked.Exchange(ref _seen, 1) == 0)
        {
            onFirstPiece();
        }
    }
}

/// <summary>A fact that is skipped when the supernode executable has not been built.</summary>
public sealed class SupernodeFactAttribute : FactAttribute
{
    public SupernodeFactAttribute()
    {
        if (FindSupernode() is null)
        {
            Skip = "supernode executable not built (set DRAGONFLY_BIN or build src/Supernode into the same artifacts)";
        }
    }

    public static string? FindSupernode()
    {
        var fromEnv = Environment.GetEnvironmentVariable("DRAGONFLY_BIN");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(Path.Combine(fromEnv, "supernode")))
        {
            return Path.Combine(fromEnv, "supernode");
        }

        // <artifacts>/bin/Dragonfly.Dfget.Tests/<config>/ → <artifacts>/bin/Dragonfly.Supernode/<config>/supernode
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var config = baseDir.Name;
        var bin = baseDir.Parent?.Parent;
        var candidate = bin is null ? null : Path.Combine(bin.FullName, "Dragonfly.Supernode", config, "supernode");
        return candidate is not null && File.Exists(candidate) ? candidate : null;
    }
}
