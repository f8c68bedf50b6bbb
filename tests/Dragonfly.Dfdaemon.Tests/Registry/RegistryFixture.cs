using System.Text.Json;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfdaemon.Tests.Registry;

/// <summary>
/// Two real registries (Debian's docker-registry, filesystem store in a temp dir, 127.0.0.1:&lt;free port&gt;): an open one with
/// <c>demo:1</c>, and one behind token auth (<see cref="TokenIssuer"/>) with <c>private/demo:1</c>. The image is a 3-layer OCI
/// image built with umoci and pushed with skopeo. Nothing starts when the tools are missing (the tests skip with the reason).
/// </summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    public static readonly string[] Tools = ["docker-registry", "skopeo", "umoci"];
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(90);

    private readonly TempDirectory _dir = new("dfdaemon-registry-");
    private ExternalProcess.BackgroundProcess? _open;
    private ExternalProcess.BackgroundProcess? _private;

    public TokenIssuer? Tokens { get; private set; }

    public Uri OpenRegistry { get; private set; } = null!;

    public Uri PrivateRegistry { get; private set; } = null!;

    /// <summary>The manifest's layer digests (hex) and the config digest, as pushed.</summary>
    public IReadOnlyList<string> LayerDigests { get; private set; } = [];

    public string ConfigDigest { get; private set; } = string.Empty;

    public string Root => _dir.Path;

    public async Task InitializeAsync()
    {
        if (Tools.Any(t => !ExternalProcess.IsInstalled(t)))
        {
            return;
        }

        var openPort = ExternalProcess.FreePort();
        _open = StartRegistry("open", openPort, auth: null);
        OpenRegistry = new Uri($"http://127.0.0.1:{openPort}");

        var bundle = _dir.Combine("token-root.pem");
        Tokens = await TokenIssuer.StartAsync(bundle);
        var privatePort = ExternalProcess.FreePort();
        _private = StartRegistry("private", privatePort, $"""
            auth:
              token:
                realm: {Tokens.Realm}
                service: {TokenIssuer.Service}
                issuer: {TokenIssuer.Issuer}
                rootcertbundle: {bundle}
            """);
        PrivateRegistry = new Uri($"http://127.0.0.1:{privatePort}");
        await WaitReadyAsync(OpenRegistry, _open);
        await WaitReadyAsync(PrivateRegistry, _private);

        var layout = _dir.Combine("image");
        await BuildImageAsync(layout);
        await Skopeo("copy", "--dest-tls-verify=false", $"oci:{layout}:demo", $"docker://127.0.0.1:{openPort}/demo:1");
        await Skopeo("copy", "--dest-tls-verify=false", "--dest-creds", $"{TokenIssuer.User}:{TokenIssuer.Password}", $"oci:{layout}:demo", $"docker://127.0.0.1:{privatePort}/private/demo:1");
        ReadDigests(layout);
    }

    /// <summary>A registries.conf that sends <paramref name="registryName"/> (which does not resolve) to the mirror.</summary>
    public string WriteRegistriesConf(string registryName, Uri mirror)
    {
        var path = _dir.Combine($"registries-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, $"""
            [[registry]]
            location = "{registryName}"
            insecure = true
            [[registry.mirror]]
            location = "127.0.0.1:{mirror.Port}"
            insecure = true
            """);
        return path;
    }

    public string NewDir(string name)
    {
        var path = _dir.Combine(name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }

    public Task DisposeAsync()
    {
        _open?.Dispose();
        _private?.Dispose();
        var tokens = Tokens?.DisposeAsync().AsTask() ?? Task.CompletedTask;
        return tokens.ContinueWith(_ => _dir.Dispose(), TaskScheduler.Default);
    }

    private static async Task<ExternalProcess.Result> Skopeo(params string[] args) =>
        (await ExternalProcess.RunAsync("skopeo", args, ToolTimeout)).EnsureSuccess("skopeo " + string.Join(' ', args));

    private ExternalProcess.BackgroundProcess StartRegistry(string name, int port, string? auth)
    {
        var config = _dir.Combine($"registry-{name}.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {_dir.Combine("store-" + name)}
            http:
              addr: 127.0.0.1:{port}
            {auth ?? string.Empty}
            """);
        return ExternalProcess.Start("docker-registry", ["serve", config], _dir.Combine($"registry-{name}.log"));
    }

    private static async Task WaitReadyAsync(Uri registry, ExternalProcess.BackgroundProcess process)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 100; i++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("docker-registry exited:\n" + process.LogText());
            }

            try
            {
                using var response = await client.GetAsync(new Uri(registry, "/v2/"));
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException("docker-registry did not start:\n" + process.LogText());
    }

    private async Task BuildImageAsync(string layout)
    {
        async Task Umoci(params string[] args) =>
            (await ExternalProcess.RunAsync("umoci", args, ToolTimeout)).EnsureSuccess("umoci " + string.Join(' ', args));

        await Umoci("init", "--layout", layout);
        await Umoci("new", "--image", layout + ":demo");
        var random = new Random(42);
        foreach (var (size, i) in new[] { 300_000, 1_200_000, 200_000 }.Select((s, i) => (s, i)))
        {
            var bundle = _dir.Combine("bundle" + i);
            await Umoci("unpack", "--rootless", "--image", layout + ":demo", bundle);
            var data = new byte[size];
            random.NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(bundle, "rootfs", $"layer{i}.bin"), data);
            await Umoci("repack", "--image", layout + ":demo", bundle);
            Directory.Delete(bundle, recursive: true);
        }

        await Umoci("config", "--image", layout + ":demo", "--config.cmd", "/layer0.bin");
    }

    private void ReadDigests(string layout)
    {
        static string Hex(string digest) => digest["sha256:".Length..];
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(layout, "index.json")));
        var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(layout, "blobs", "sha256", Hex(manifestDigest))));
        LayerDigests = manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => Hex(l.GetProperty("digest").GetString()!)).ToList();
        ConfigDigest = Hex(manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!);
    }
}
