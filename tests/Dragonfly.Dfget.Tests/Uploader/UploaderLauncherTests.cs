using System.Net;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
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
    public async Task LaunchAsync_NoHostMeta_ReturnsTheCandidatePortBeforeTheUploaderServes()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        await using var starter = new InProcessStarter(home) { Gate = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), starter, NullLogger<UploaderLauncher>.Instance, time);

        var launch = await launcher.LaunchAsync(Request(home, "a-1-1.000"), CancellationToken.None);

        UploaderOptions.CandidatePorts(time.GetUtcNow()).Should().Contain(launch.Port);
        launch.IsPending.Should().BeTrue();
        launch.Serving.IsCompleted.Should().BeFalse("the uploader has not printed its port yet");
        starter.Arguments.Should().ContainInOrder("--port", launch.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        starter.Gate.SetResult();

        (await launch.Serving).Should().BeTrue();
        starter.Server!.Port.Should().Be(launch.Port);
        starter.Server.Tasks.TryGet("a-1-1.000", out _).Should().BeTrue("/check/ registered the task before Serving completed");
    }

    [Fact]
    public async Task LaunchAsync_CandidatePortTaken_SkipsIt()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        var first = UploaderOptions.CandidatePorts(time.GetUtcNow()).First();
        using var taken = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            taken.Bind(new IPEndPoint(IPAddress.Loopback, first));
            taken.Listen();
        }
        catch (System.Net.Sockets.SocketException)
        {
            // Someone else holds it: the launcher must skip it all the same.
        }

        await using var starter = new InProcessStarter(home);
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), starter, NullLogger<UploaderLauncher>.Instance, time);

        var launch = await launcher.LaunchAsync(Request(home, "a-1-1.000"), CancellationToken.None);

        launch.Port.Should().NotBe(first);
        UploaderOptions.CandidatePorts(time.GetUtcNow()).Should().Contain(launch.Port);
        (await launch.Serving).Should().BeTrue();
    }

    [Fact]
    public async Task LaunchAsync_TwoFreshHomesInTheSameWindow_EachGetsItsOwnPort()
    {
        using var temp1 = new TempDirectory();
        using var temp2 = new TempDirectory();
        var home1 = new WorkHomeLayout(temp1.Path);
        var home2 = new WorkHomeLayout(temp2.Path);
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        await using var starter1 = new InProcessStarter(home1) { Gate = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var starter2 = new InProcessStarter(home2) { Gate = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        using var launcher1 = new UploaderLauncher(new UploaderLauncherOptions(), starter1, NullLogger<UploaderLauncher>.Instance, time);
        using var launcher2 = new UploaderLauncher(new UploaderLauncherOptions(), starter2, NullLogger<UploaderLauncher>.Instance, time);

        // Neither uploader has started when the second download chooses its port.
        var launch1 = await launcher1.LaunchAsync(Request(home1, "a-1-1.000"), CancellationToken.None);
        var launch2 = await launcher2.LaunchAsync(Request(home2, "b-2-2.000"), CancellationToken.None);
        starter1.Gate.SetResult();
        starter2.Gate.SetResult();

        launch2.Port.Should().NotBe(launch1.Port);
        (await launch1.Serving).Should().BeTrue();
        (await launch2.Serving).Should().BeTrue();
        starter1.HandedSocket.Should().BeTrue();
        starter2.Server!.Port.Should().Be(launch2.Port);
    }

    [Fact]
    public async Task LaunchAsync_CancelledWhileItsCheckIsUnderway_FinishesTheCheckAndServes()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var app = LoopbackWebApp.Build();
        app.MapGet("/check/{name}", async (string name) =>
        {
            arrived.TrySetResult();
            await release.Task;
            return Results.Text($"{name}@{Dragonfly.Dfget.Engine.DfgetVersion.Current}");
        });
        var port = await LoopbackWebApp.StartAsync(app);
        await using var uploader = app;
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions { RequestTimeout = TimeSpan.FromSeconds(30) }, new FixedPortStarter(port), NullLogger<UploaderLauncher>.Instance);
        using var cancel = new CancellationTokenSource();

        var launch = await launcher.LaunchAsync(Request(home, "a-1-1.000") with { Port = port }, cancel.Token);
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();
        release.SetResult();

        (await launch.Serving.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue(
            "the uploader registered the name: the download must learn it, to withdraw it after, not before");
    }

    [Fact]
    public async Task LaunchAsync_CancelledBeforeItsCheck_SendsNone()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        var checks = 0;
        var app = LoopbackWebApp.Build();
        app.MapGet("/check/{name}", (string name) =>
        {
            Interlocked.Increment(ref checks);
            return Results.Text($"{name}@{Dragonfly.Dfget.Engine.DfgetVersion.Current}");
        });
        var port = await LoopbackWebApp.StartAsync(app);
        await using var uploader = app;
        var starter = new FixedPortStarter(port) { Gate = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), starter, NullLogger<UploaderLauncher>.Instance);
        using var cancel = new CancellationTokenSource();

        var launch = await launcher.LaunchAsync(Request(home, "a-1-1.000") with { Port = port }, cancel.Token);
        await cancel.CancelAsync();
        starter.Gate.SetResult();

        var serving = () => launch.Serving.WaitAsync(TimeSpan.FromSeconds(30));
        await serving.Should().ThrowAsync<OperationCanceledException>();
        Volatile.Read(ref checks).Should().Be(0);
    }

    [Fact]
    public async Task LaunchAsync_UploaderCannotStart_ServingIsFalse()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), new FailingStarter(), NullLogger<UploaderLauncher>.Instance);

        var launch = await launcher.LaunchAsync(Request(home, "a-1-1.000"), CancellationToken.None);

        launch.Port.Should().BeGreaterThan(0);
        (await launch.Serving).Should().BeFalse();
    }

    [Fact]
    public async Task LaunchAsync_UploaderAnswersOnAnotherPort_ServingIsFalse()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        await using var starter = new InProcessStarter(home) { IgnorePortArgument = true };
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), starter, NullLogger<UploaderLauncher>.Instance);

        var launch = await launcher.LaunchAsync(Request(home, "a-1-1.000"), CancellationToken.None);

        (await launch.Serving).Should().BeFalse("the download registered a port nobody serves on");
        starter.Server!.Port.Should().NotBe(launch.Port);
    }

    [Fact]
    public async Task LaunchAsync_LiveUploaderInHostMeta_IsRunningAtOnce()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        await using var starter = new InProcessStarter(home);
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), starter, NullLogger<UploaderLauncher>.Instance);
        var port = await launcher.EnsureRunningAsync(Request(home, "a-1-1.000"), CancellationToken.None);

        var launch = await launcher.LaunchAsync(Request(home, "b-2-2.000"), CancellationToken.None);

        launch.Port.Should().Be(port!.Value);
        launch.IsPending.Should().BeFalse();
        starter.Starts.Should().Be(1);
    }

    [Fact]
    public async Task LaunchAsync_RequestedPort_IsPassedThrough()
    {
        using var temp = new TempDirectory();
        var home = new WorkHomeLayout(temp.Path);
        var free = Dragonfly.TestCommon.ProcessHost.FreeTcpPort();
        await using var starter = new InProcessStarter(home);
        using var launcher = new UploaderLauncher(new UploaderLauncherOptions(), starter, NullLogger<UploaderLauncher>.Instance);

        var launch = await launcher.LaunchAsync(Request(home, "a-1-1.000") with { Port = free }, CancellationToken.None);

        launch.Port.Should().Be(free);
        (await launch.Serving).Should().BeTrue();
        starter.Server!.Port.Should().Be(free);
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

    /// <summary>Plays "dfget server" in-process: starts a PeerServer from the arguments' home, on the <c>--port</c> given.</summary>
    private sealed class InProcessStarter(WorkHomeLayout home) : IUploaderProcessStarter, IAsyncDisposable
    {
        public PeerServer? Server { get; private set; }

        public int Starts { get; private set; }

        public IReadOnlyList<string> Arguments { get; private set; } = [];

        /// <summary>Whether the launcher handed over a reserved listening socket.</summary>
        public bool HandedSocket { get; private set; }

        /// <summary>When set, the "process" prints its port only once this completes.</summary>
        public TaskCompletionSource? Gate { get; init; }

        /// <summary>Binds an ephemeral port whatever <c>--port</c> says (like an uploader that found another one owning the home).</summary>
        public bool IgnorePortArgument { get; init; }

        public async Task<int?> StartAsync(IReadOnlyList<string> serverArguments, TimeSpan timeout, UploaderPortReservation? listener, CancellationToken cancellationToken)
        {
            Starts++;
            Arguments = serverArguments;
            if (Gate is not null)
            {
                await Gate.Task.WaitAsync(cancellationToken);
            }

            // Like the real child: it serves on the reserved socket it inherited, and the launcher's copy is closed.
            int? descriptor = null;
            if (listener is not null)
            {
                HandedSocket = true;
                descriptor = listener.TakeDescriptor();
                listener.Dispose();
            }

            var port = IgnorePortArgument ? 0 : int.Parse(serverArguments[serverArguments.ToList().IndexOf("--port") + 1], System.Globalization.CultureInfo.InvariantCulture);
            Server = new PeerServer(
                new UploaderOptions
                {
                    BindAddress = IPAddress.Loopback,
                    Port = port,
                    UseEphemeralPort = port == 0,
                    ListenDescriptor = descriptor,
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

    /// <summary>An "uploader" that is already listening on <paramref name="port"/> (once <see cref="Gate"/> opens).</summary>
    private sealed class FixedPortStarter(int port) : IUploaderProcessStarter
    {
        public TaskCompletionSource? Gate { get; init; }

        public async Task<int?> StartAsync(IReadOnlyList<string> serverArguments, TimeSpan timeout, UploaderPortReservation? listener, CancellationToken cancellationToken)
        {
            listener?.Dispose();
            if (Gate is not null)
            {
                await Gate.Task;
            }

            return port;
        }
    }

    private sealed class FailingStarter : IUploaderProcessStarter
    {
        public Task<int?> StartAsync(IReadOnlyList<string> serverArguments, TimeSpan timeout, UploaderPortReservation? listener, CancellationToken cancellationToken)
        {
            listener?.Dispose();
            return Task.FromResult<int?>(null);
        }
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
