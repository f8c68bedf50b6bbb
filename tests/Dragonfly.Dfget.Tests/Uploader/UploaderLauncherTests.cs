using System.Net;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.Uploader;

public sealed class UploaderLauncherTests
{
    [Fact]
    public async Task EnsureRunning_NoHostMeta_StartsUploaderAndChecksTask()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        await using var starter = new InProcessStarter(home);
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), starter, NullLogger<UploaderLauncher>.Instance);

        var port = await launcher.EnsureRunningAsync(Request(home, "a-1-1.000"), CancellationToken.None);

        port.Should().Be(starter.Server!.Port);
        starter.Starts.Should().Be(1);
        starter.Arguments.Should().ContainInOrder("server", "--ip", "127.0.0.1", "--port", "0", "--meta", home.HostMetaPath, "--data", home.DataDir, "--home", home.Root, "--expiretime", "180000ms", "--alivetime", "300000ms");
        starter.Server.Tasks.TryGet("a-1-1.000", out _).Should().BeTrue();
        starter.Server.RateLimiter.BytesPerSecond.Should().Be(1234);
    }

    [Fact]
    public async Task EnsureRunning_LiveUploaderInHostMeta_IsReused()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        await using var starter = new InProcessStarter(home);
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), starter, NullLogger<UploaderLauncher>.Instance);
        var first = await launcher.EnsureRunningAsync(Request(home, "a-1-1.000"), CancellationToken.None);

        var second = await launcher.EnsureRunningAsync(Request(home, "b-2-2.000"), CancellationToken.None);

        second.Should().Be(first);
        starter.Starts.Should().Be(1);
        starter.Server!.Tasks.TryGet("b-2-2.000", out _).Should().BeTrue();
    }

    [Fact]
    public async Task EnsureRunning_StaleHostMeta_StartsANewUploader()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        home.EnsureCreated();
        await new HostMetaFile(home.HostMetaPath).WritePortAsync(1, CancellationToken.None);
        await using var starter = new InProcessStarter(home);
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), starter, NullLogger<UploaderLauncher>.Instance);

        var port = await launcher.EnsureRunningAsync(Request(home, "a-1-1.000"), CancellationToken.None);

        port.Should().Be(starter.Server!.Port);
        starter.Starts.Should().Be(1);
    }

    [Fact]
    public async Task EnsureRunning_StarterFails_ReturnsNull()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), new FailingStarter(), NullLogger<UploaderLauncher>.Instance);

        (await launcher.EnsureRunningAsync(Request(home, "a-1-1.000"), CancellationToken.None)).Should().BeNull();
    }

    [Fact]
    public async Task NotifyFinished_MarksTaskFinishedOnTheUploader()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        await using var starter = new InProcessStarter(home);
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), starter, NullLogger<UploaderLauncher>.Instance);
        var port = await launcher.EnsureRunningAsync(Request(home, "a-1-1.000"), CancellationToken.None);

        await launcher.NotifyFinishedAsync(port!.Value, "127.0.0.1", "a-1-1.000", new string('d', 64), "127.0.0.1-1-1.000", "127.0.0.1:8002", CancellationToken.None);

        starter.Server!.Tasks.TryGet("a-1-1.000", out var task).Should().BeTrue();
        task.Finished.Should().BeTrue();
        task.SuperNode.Should().Be("127.0.0.1:8002");
    }

    [Theory]
    [InlineData("dfget uploader server port is 15001", 15001)]
    [InlineData("dfget uploader server port is 0", 0)]
    [InlineData("dfget uploader server port is x", 0)]
    [InlineData("something else", 0)]
    public void TryParsePortLine_ParsesOnlyTheExactLine(string line, int expected)
    {
        DfgetProcessStarter.TryParsePortLine(line, out var port);
        port.Should().Be(expected > 0 ? expected : port);
        DfgetProcessStarter.TryParsePortLine(line, out _).Should().Be(expected > 0);
    }

    private static UploaderLaunchRequest Request(WorkHomeLayout home, string name) =>
        new(home, "127.0.0.1", 0, name, 1234, TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(5), false);

    /// <summary>Plays "dfget server" in-process: starts a PeerServer from the arguments' home.</summary>
    private sealed class InProcessStarter(WorkHomeLayout home) : IUploaderProcessStarter, IAsyncDisposable
    {
        public PeerServer? Server { get; private set; }

        public int Starts { get; private set; }

        public IReadOnlyList<string> Arguments { get; private set; } = [];

        public async Task<int?> StartAsync(IReadOnlyList<string> serverArguments, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Starts++;
            Arguments = serverArguments;
            Server = new PeerServer(
                new UploaderOptions
                {
                    BindAddress = IPAddress.Loopback,
                    UseEphemeralPort = true,
                    DataDirs = [home.DataDir],
                    HostMetaPath = home.HostMetaPath,
                    LockPath = home.UploaderLockPath,
                },
                NullLoggerFactory.Instance);
            return await Server.StartAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            if (Server is not null)
            {
                await Server.DisposeAsync();
            }
        }
    }

    private sealed class FailingStarter : IUploaderProcessStarter
    {
        public Task<int?> StartAsync(IReadOnlyList<string> serverArguments, TimeSpan timeout, CancellationToken cancellationToken) =>
            Task.FromResult<int?>(null);
    }
}

public sealed class DfgetProcessStarterTests
{
    [Fact]
    public void ResolveCommand_ExplicitDll_RunsItWithTheDotnetHost()
    {
        var command = DfgetProcessStarter.ResolveCommand("/opt/df/dfget.dll");

        command.Should().NotBeNull();
        Path.GetFileNameWithoutExtension(command!.Value.FileName).Should().Be("dotnet");
        command.Value.PrefixArguments.Should().Equal("/opt/df/dfget.dll");
    }

    [Fact]
    public void ResolveCommand_ExplicitExecutable_RunsItDirectly()
    {
        var command = DfgetProcessStarter.ResolveCommand("/usr/local/bin/dfget");

        command!.Value.FileName.Should().Be("/usr/local/bin/dfget");
        command.Value.PrefixArguments.Should().BeEmpty();
    }

    [Fact]
    public void ResolveCommand_FromTheTestHost_FindsDfgetNextToTheTests()
    {
        var command = DfgetProcessStarter.ResolveCommand(null);

        command.Should().NotBeNull();
        (command!.Value.FileName.EndsWith("/dfget", StringComparison.Ordinal) || command.Value.PrefixArguments.Any(a => a.EndsWith("dfget.dll", StringComparison.Ordinal)))
            .Should().BeTrue();
    }
}
