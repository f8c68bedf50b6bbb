using System.Security.Cryptography;
using System.Text.Json;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfdaemon.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Registry;

/// <summary>
/// Real registry clients (skopeo, podman, containerd's ctr) pulling a 3-layer image from a real docker-registry THROUGH dfdaemon as
/// their mirror. The registry name the clients use does not resolve, so a pull can only succeed through dfdaemon. Blobs take the
/// P2P path (a stand-in fetcher that streams from the origin with the headers dfdaemon passes), are verified against their sha256,
/// and each layer's digest is checked at the client.
/// </summary>
public class RegistryMirrorTests : IClassFixture<RegistryFixture>
{
    private const string RegistryName = "dragonfly-test.invalid:5000";
    private static readonly TimeSpan PullTimeout = TimeSpan.FromSeconds(90);
    private readonly RegistryFixture _registry;

    public RegistryMirrorTests(RegistryFixture registry) => _registry = registry;

    private Task<TestDfdaemon> StartDaemonAsync(Uri registry, IBlobFetcher fetcher) =>
        TestDfdaemon.StartAsync(services: s => s.AddSingleton(fetcher), remote: registry);

    [RequiresToolsFact("docker-registry", "skopeo", "umoci")]
    public async Task Skopeo_CopyThroughMirror_EveryLayerStreamedAndVerified()
    {
        using var fetcher = new OriginStreamingBlobFetcher();
        await using var daemon = await StartDaemonAsync(_registry.OpenRegistry, fetcher);
        var conf = _registry.WriteRegistriesConf(RegistryName, daemon.Address);
        var output = _registry.NewDir("skopeo-out");

        var result = await ExternalProcess.RunAsync("skopeo", ["copy", "--registries-conf", conf, $"docker://{RegistryName}/demo:1", $"oci:{output}:demo"], PullTimeout);

        result.EnsureSuccess("skopeo copy through dfdaemon");
        AssertBlobsVerified(output);
        AssertP2pServed(daemon, fetcher, [.. _registry.LayerDigests, _registry.ConfigDigest]);
    }

    [RequiresToolsFact("docker-registry", "skopeo", "umoci", "podman")]
    public async Task Podman_PullThroughMirror_ImageStoredWithEveryLayer()
    {
        using var fetcher = new OriginStreamingBlobFetcher();
        await using var daemon = await StartDaemonAsync(_registry.OpenRegistry, fetcher);
        var conf = _registry.WriteRegistriesConf(RegistryName, daemon.Address);
        using var short1 = new Dragonfly.TestCommon.TempDirectory("pm-");
        var root = short1.Combine("root");
        var runroot = short1.Combine("run");
        var env = new Dictionary<string, string> { ["CONTAINERS_REGISTRIES_CONF"] = conf };
        string[] common = ["--storage-driver", "vfs", "--root", root, "--runroot", runroot];

        (await ExternalProcess.RunAsync("podman", [.. common, "pull", $"{RegistryName}/demo:1"], PullTimeout, env)).EnsureSuccess("podman pull through dfdaemon");
        var inspect = (await ExternalProcess.RunAsync("podman", [.. common, "image", "inspect", $"{RegistryName}/demo:1", "--format", "{{.Id}} {{len .RootFS.Layers}}"], PullTimeout, env))
            .EnsureSuccess("podman image inspect");

        inspect.Output.Trim().Should().Be($"{_registry.ConfigDigest} {_registry.LayerDigests.Count}");
        AssertP2pServed(daemon, fetcher, [.. _registry.LayerDigests, _registry.ConfigDigest]);
    }

    [RequiresToolsFact("docker-registry", "skopeo", "umoci", "containerd", "ctr")]
    public async Task Containerd_PullThroughMirror_ContentStoreHasEveryLayer()
    {
        using var fetcher = new OriginStreamingBlobFetcher();
        await using var daemon = await StartDaemonAsync(_registry.OpenRegistry, fetcher);
        var dir = _registry.NewDir("containerd");
        var socket = Path.Combine(dir, "c.sock");
        var config = Path.Combine(dir, "config.toml");
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{dir}/root"
            state = "{dir}/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "{socket}"
            [ttrpc]
              address = "{socket}.ttrpc"
            """);
        var hosts = Path.Combine(dir, "hosts", RegistryName);
        Directory.CreateDirectory(hosts);
        await File.WriteAllTextAsync(Path.Combine(hosts, "hosts.toml"), $"""
            server = "http://{RegistryName}"
            [host."http://127.0.0.1:{daemon.Address.Port}"]
              capabilities = ["pull", "resolve"]
            """);
        using var containerd = ExternalProcess.Start("containerd", ["--config", config], Path.Combine(dir, "containerd.log"));
        await WaitForAsync(() => File.Exists(socket) || containerd.HasExited, TimeSpan.FromSeconds(30));
        File.Exists(socket).Should().BeTrue("containerd should start:\n" + containerd.LogText());

        var pull = await ExternalProcess.RunAsync("ctr", ["-a", socket, "images", "pull", "--hosts-dir", Path.Combine(dir, "hosts"), "--snapshotter", "native", $"{RegistryName}/demo:1"], PullTimeout);
        pull.EnsureSuccess("ctr images pull through dfdaemon");
        var content = (await ExternalProcess.RunAsync("ctr", ["-a", socket, "content", "ls", "-q"], PullTimeout)).EnsureSuccess("ctr content ls");

        foreach (var digest in _registry.LayerDigests)
        {
            content.Output.Should().Contain("sha256:" + digest);
        }

        AssertP2pServed(daemon, fetcher, [.. _registry.LayerDigests, _registry.ConfigDigest]);
    }

    [RequiresToolsFact("docker-registry", "skopeo", "umoci")]
    public async Task Skopeo_P2pUnavailable_FallsBackDirectAndStillPulls()
    {
        var fetcher = RecordingBlobFetcher.Failing("supernode 127.0.0.1:1 refused the connection");
        await using var daemon = await StartDaemonAsync(_registry.OpenRegistry, fetcher);
        var conf = _registry.WriteRegistriesConf(RegistryName, daemon.Address);
        var output = _registry.NewDir("fallback-out");

        (await ExternalProcess.RunAsync("skopeo", ["copy", "--registries-conf", conf, $"docker://{RegistryName}/demo:1", $"oci:{output}:demo"], PullTimeout))
            .EnsureSuccess("skopeo copy with P2P failing");

        AssertBlobsVerified(output);
        var metrics = daemon.Services.GetRequiredService<DfdaemonMetrics>();
        metrics.BlobFallback.Should().BeGreaterThanOrEqualTo(_registry.LayerDigests.Count);
        metrics.P2pBytes.Should().Be(0);
        metrics.DirectBytes.Should().BeGreaterThan(1_500_000);
    }

    [RequiresToolsFact("docker-registry", "skopeo", "umoci")]
    public async Task Skopeo_PrivateImageWithCredentials_PullsThroughMirrorWithBearerToken()
    {
        using var fetcher = new OriginStreamingBlobFetcher();
        await using var daemon = await StartDaemonAsync(_registry.PrivateRegistry, fetcher);
        var conf = _registry.WriteRegistriesConf(RegistryName, daemon.Address);
        var output = _registry.NewDir("private-out");

        // containers/image never sends --src-creds to a mirror; credentials for a mirror come from the auth file, keyed by the mirror's host.
        var authFile = Path.Combine(output, "..", Path.GetFileName(output) + "-auth.json");
        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{TokenIssuer.User}:{TokenIssuer.Password}"));
        await File.WriteAllTextAsync(authFile, JsonSerializer.Serialize(new { auths = new Dictionary<string, object> { [$"127.0.0.1:{daemon.Address.Port}"] = new { auth = basic } } }));

        (await ExternalProcess.RunAsync("skopeo", ["copy", "--registries-conf", conf, "--authfile", authFile, $"docker://{RegistryName}/private/demo:1", $"oci:{output}:demo"], PullTimeout))
            .EnsureSuccess("skopeo copy of a private image; token server saw " + _registry.Tokens!.LastAuthorization);

        AssertBlobsVerified(output);
        AssertP2pServed(daemon, fetcher, [.. _registry.LayerDigests, _registry.ConfigDigest]);
        fetcher.Requests.Should().OnlyContain(r => r.Headers.Any(h => h.StartsWith("Authorization: Bearer ", StringComparison.Ordinal)),
            "the client's token reaches the P2P download so the supernode can fetch from the registry");
    }

    [RequiresToolsFact("docker-registry", "skopeo", "umoci")]
    public async Task Skopeo_PrivateImageWithoutCredentials_FailsCleanlyWithUnauthorized()
    {
        using var fetcher = new OriginStreamingBlobFetcher();
        await using var daemon = await StartDaemonAsync(_registry.PrivateRegistry, fetcher);
        var conf = _registry.WriteRegistriesConf(RegistryName, daemon.Address);
        var output = _registry.NewDir("denied-out");

        var result = await ExternalProcess.RunAsync("skopeo", ["copy", "--registries-conf", conf, $"docker://{RegistryName}/private/demo:1", $"oci:{output}:demo"], PullTimeout);

        result.ExitCode.Should().NotBe(0).And.NotBe(-1, "it must fail promptly, not hang");
        result.Output.Should().MatchRegex("(?i)unauthorized|authentication required|401");
        fetcher.Requests.Should().BeEmpty("no blob is fetched without a manifest");
    }

    [RequiresToolsFact("docker-registry", "skopeo", "umoci")]
    public async Task PrivateBlob_AfterAnAuthorisedPull_ClientWithoutToken_GetsTheRegistrys401NotTheCachedBlob()
    {
        using var cts = new CancellationTokenSource(PullTimeout);
        using var origin = new OriginStreamingBlobFetcher();
        var cache = new CachingBlobFetcher(origin);
        await using var daemon = await StartDaemonAsync(_registry.PrivateRegistry, cache);
        using var client = daemon.MirrorClient();
        var digest = _registry.LayerDigests[0];
        var path = $"/v2/private/demo/blobs/sha256:{digest}";
        var token = await _registry.Tokens!.RequestTokenAsync("repository:private/demo:pull", cts.Token);
        using (var authorised = new HttpRequestMessage(HttpMethod.Get, path))
        {
            authorised.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var pulled = await client.SendAsync(authorised, cts.Token);
            pulled.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
            Convert.ToHexStringLower(SHA256.HashData(await pulled.Content.ReadAsByteArrayAsync(cts.Token))).Should().Be(digest);
        }

        using var anonymous = await client.GetAsync(path, cts.Token);

        anonymous.StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized, "the blob is in the P2P cache, but this client may not read it");
        anonymous.Headers.WwwAuthenticate.ToString().Should().Contain(_registry.Tokens.Realm.ToString()).And.Contain("repository:private/demo:pull");
        cache.Requests.Should().ContainSingle("only the authorised client reached P2P");
        daemon.Services.GetRequiredService<DfdaemonMetrics>().BlobAccessRefused.Should().Be(1);
    }

    private static void AssertBlobsVerified(string ociLayout)
    {
        var blobs = Directory.GetFiles(Path.Combine(ociLayout, "blobs", "sha256"));
        blobs.Should().NotBeEmpty();
        foreach (var blob in blobs)
        {
            using var stream = File.OpenRead(blob);
            Convert.ToHexStringLower(SHA256.HashData(stream)).Should().Be(Path.GetFileName(blob));
        }
    }

    private void AssertP2pServed(TestDfdaemon daemon, OriginStreamingBlobFetcher fetcher, IReadOnlyList<string> digests)
    {
        var fetched = fetcher.Requests.Select(r => r.Sha256).ToHashSet();
        foreach (var digest in digests)
        {
            fetched.Should().Contain(digest);
        }

        var metrics = daemon.Services.GetRequiredService<DfdaemonMetrics>();
        metrics.BlobP2p.Should().BeGreaterThanOrEqualTo(digests.Count);
        metrics.BlobDigestMismatch.Should().Be(0);
        metrics.P2pBytes.Should().BeGreaterThan(1_500_000, "all layers streamed through the P2P path");
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }
}
