using System.Globalization;
using System.Security.Cryptography;
using Dragonfly.Common.Nodes;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.TestCommon;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Registry;

/// <summary>A fact that needs the published supernode and dfget (build.sh publishes them into bin/ or $DRAGONFLY_BIN).</summary>
public sealed class RequiresPublishedBinariesFactAttribute : FactAttribute
{
    public RequiresPublishedBinariesFactAttribute()
    {
        try
        {
            DragonflyBinaries.PathOf("supernode");
            DragonflyBinaries.PathOf("dfget");
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidOperationException)
        {
            Skip = "supernode/dfget not published: " + e.Message;
        }
    }
}

/// <summary>
/// Real P2P through two dfdaemons: a real supernode process, two dfdaemons (separate work homes, each with its own uploader
/// started as <c>dfget server</c>), and an origin registry blob of 10 MiB (3 pieces). The second dfdaemon must take pieces from
/// the first one's uploader, and the origin must serve the blob about once.
/// </summary>
public sealed class P2pAcrossDaemonsTests : IClassFixture<RegistryFixture>
{
    private readonly RegistryFixture _registry;

    public P2pAcrossDaemonsTests(RegistryFixture registry) => _registry = registry;

    [RequiresPublishedBinariesFact]
    public async Task Skopeo_TwoDaemonsRealEngine_LayersThroughSupernodeThenFromFirstPeer()
    {
        if (RegistryFixture.Tools.Any(t => !ExternalProcess.IsInstalled(t)))
        {
            return; // the registry tools are covered (and skipped with the reason) by RegistryMirrorTests
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var dir = new TempDirectory("dfdaemon-p2p-");
        await using var supernode = await StartSupernodeAsync(dir.Path, cts.Token);
        try
        {
            await using var a = await StartDaemonAsync(_registry.OpenRegistry, supernode.Port, Path.Combine(dir.Path, "a"));
            await using var b = await StartDaemonAsync(_registry.OpenRegistry, supernode.Port, Path.Combine(dir.Path, "b"));
            foreach (var daemon in new[] { a, b })
            {
                var conf = _registry.WriteRegistriesConf("dragonfly-test.invalid:5000", daemon.Address);
                var output = _registry.NewDir("p2p-out");
                var result = await ExternalProcess.RunAsync("skopeo", ["copy", "--registries-conf", conf, "docker://dragonfly-test.invalid:5000/demo:1", $"oci:{output}:demo"], TimeSpan.FromSeconds(90));
                result.EnsureSuccess("skopeo copy through dfdaemon with the real engine\n" + daemon.Logs);
                foreach (var blob in Directory.GetFiles(Path.Combine(output, "blobs", "sha256")))
                {
                    await using var stream = File.OpenRead(blob);
                    Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cts.Token)).Should().Be(Path.GetFileName(blob));
                }
            }

            var ma = a.Services.GetRequiredService<DfdaemonMetrics>();
            var mb = b.Services.GetRequiredService<DfdaemonMetrics>();
            await SettleAsync(mb, cts.Token);
            var logs = "\nA:\n" + a.Logs + "\nB:\n" + b.Logs;
            ma.BlobP2p.Should().BeGreaterThanOrEqualTo(_registry.LayerDigests.Count, logs);
            mb.BlobP2p.Should().BeGreaterThanOrEqualTo(_registry.LayerDigests.Count, logs);
            mb.BytesFromPeers.Should().BeGreaterThan(0, "the second daemon took layer pieces from the first daemon's uploader" + logs);
            (ma.BlobFallback + mb.BlobFallback).Should().Be(0, logs);
        }
        finally
        {
            KillUploaders(dir.Path);
        }
    }

    private static async Task<(ProcessHost Host, int Port)> StartSupernodeProcessAsync(string dir, CancellationToken cancellationToken)
    {
        var port = ExternalProcess.FreePort();
        var downloadPort = ExternalProcess.FreePort();
        var host = ProcessHost.Start(DragonflyBinaries.PathOf("supernode"),
        [
            "--home-dir", Path.Combine(dir, "supernode"), "--advertise-ip", "127.0.0.1",
            "--port", port.ToString(CultureInfo.InvariantCulture), "--download-port", downloadPort.ToString(CultureInfo.InvariantCulture),
        ]);
        await SupernodeReadiness.WaitAsync(port, host, cancellationToken);
        return (host, port);
    }

    private static async Task<SupernodeHandle> StartSupernodeAsync(string dir, CancellationToken cancellationToken)
    {
        var (host, port) = await StartSupernodeProcessAsync(dir, cancellationToken);
        return new SupernodeHandle(host, port);
    }

    private sealed record SupernodeHandle(ProcessHost Host, int Port) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Host.DisposeAsync();
    }

    [RequiresPublishedBinariesFact]
    public async Task TwoDaemons_SecondPullsPiecesFromFirstPeer_OriginServesBlobOnce()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var dir = new TempDirectory("dfdaemon-p2p-");
        var content = new byte[10 * 1024 * 1024];
        new Random(11).NextBytes(content);
        var digest = Convert.ToHexStringLower(SHA256.HashData(content));
        var blobPath = $"/v2/demo/blobs/sha256:{digest}";
        await using var origin = await OriginServer.StartAsync(cts.Token);
        origin.AddFile(blobPath, content);

        await using var supernode = await StartSupernodeAsync(dir.Path, cts.Token);
        var port = supernode.Port;

        try
        {
            // The first daemon takes its supernode and its uploader's port from dfget_flags, as the original's documented
            // example configures them; the second then fetching pieces from it shows the engine used both.
            var uploaderPort = ExternalProcess.FreePort();
            var flags = DfgetFlagSet.Parse(["--node", $"127.0.0.1:{port}", "--port", uploaderPort.ToString(CultureInfo.InvariantCulture), "--alivetime", "2m"]);
            await using var a = await StartDaemonAsync(origin.BaseAddress, port, Path.Combine(dir.Path, "a"), flags);
            await using var b = await StartDaemonAsync(origin.BaseAddress, port, Path.Combine(dir.Path, "b"));
            await PullAsync(a, blobPath, content, cts.Token);
            using (var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }))
            {
                (await http.GetStringAsync(new Uri($"http://127.0.0.1:{uploaderPort}/server/ping"), cts.Token))
                    .Should().Be("success", "the first daemon's uploader listens on the --port of its dfget_flags");
            }

            await PullAsync(b, blobPath, content, cts.Token);
            var ma = a.Services.GetRequiredService<DfdaemonMetrics>();
            var mb = b.Services.GetRequiredService<DfdaemonMetrics>();
            await SettleAsync(mb, cts.Token);
            var logs = "\nA:\n" + a.Logs + "\nB:\n" + b.Logs;
            ma.BlobP2p.Should().Be(1, "the first daemon's blob came through P2P" + logs);
            mb.BlobP2p.Should().Be(1, logs);
            mb.BytesFromPeers.Should().BeGreaterThan(0, "the second daemon took pieces from the first daemon's uploader");
            (ma.BlobFallback + mb.BlobFallback + ma.DirectBytes + mb.DirectBytes).Should().Be(0, "neither daemon went to the registry itself");

            // Only the supernode's CDN downloads from the registry: a one-byte length probe (Range: bytes=0-0) and one download.
            // Each daemon also asks it (a HEAD, no body) whether its client may read the blob.
            var requests = string.Join("; ", origin.Requests.Select(r => $"{r.Method} {r.Range} -> {r.Status} ({r.BodyBytes} B)"));
            origin.Requests.Count(r => r.Method == "GET" && r.BodyBytes > 1).Should().Be(1, "the registry served the blob once; requests: " + requests + logs);
            origin.BodyBytesServed.Should().BeLessThanOrEqualTo(content.Length + 1, requests);
        }
        finally
        {
            KillUploaders(dir.Path);
        }
    }

    private static async Task<TestDfdaemon> StartDaemonAsync(Uri registry, int supernodePort, string home, DfgetFlagSet? dfgetFlags = null)
    {
        var daemon = await TestDfdaemon.StartAsync(
            o => o with
            {
                WorkHome = home,
                LocalRepo = Path.Combine(home, "dfdaemon", "data"),
                Supernodes = dfgetFlags is null ? SupernodeList.Parse([$"127.0.0.1:{supernodePort}"]) : null,
                DfgetFlags = dfgetFlags ?? DfgetFlagSet.Empty,
                DfPath = DragonflyBinaries.PathOf("dfget"),
                LocalIp = "127.0.0.1",
            },
            remote: registry);
        daemon.Services.GetRequiredService<IBlobFetcher>().Should().BeOfType<EngineBlobFetcher>();
        return daemon;
    }

    private static async Task PullAsync(TestDfdaemon daemon, string blobPath, byte[] content, CancellationToken cancellationToken)
    {
        using var client = daemon.MirrorClient();
        (await client.GetByteArrayAsync(blobPath, cancellationToken)).Should().Equal(content);
    }

    /// <summary>The engine's peer/supernode byte counts are recorded when the response stream is released, just after the client finished.</summary>
    private static async Task SettleAsync(DfdaemonMetrics metrics, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 50 && metrics.BytesFromPeers + metrics.BytesFromSupernode == 0; i++)
        {
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Kills the detached uploaders (<c>dfget server</c>) whose command line names <paramref name="marker"/> (our temp dirs only).</summary>
    private static void KillUploaders(string marker)
    {
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
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (cmdline.Contains(" server", StringComparison.Ordinal) && cmdline.Contains(marker, StringComparison.Ordinal))
            {
                try
                {
                    using var p = System.Diagnostics.Process.GetProcessById(pid);
                    p.Kill(entireProcessTree: true);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                }
            }
        }
    }
}
