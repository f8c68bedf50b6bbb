using System.Net;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfget.Tests.Cli;

/// <summary>Runs the real <c>dfget server</c> executable (next to the tests, or in <c>$DRAGONFLY_BIN</c>).</summary>
public sealed class DfgetServerProcessTests
{
    [Fact]
    public async Task Server_Process_PrintsPortLineServesPingAndZeroesHostMetaOnSigterm()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var temp = new TempDirectory("dfget-server-");
        var home = new WorkHomeLayout(temp.Path);
        var (fileName, prefix) = DfgetCommand();

        await using var process = ProcessHost.Start(fileName, [.. prefix, "server", "--ip", "127.0.0.1", "--home", home.Root, "--meta", home.HostMetaPath, "--data", home.DataDir]);
        var line = await process.WaitForLineAsync(l => l.StartsWith(DfgetProcessStarter.PortLinePrefix, StringComparison.Ordinal), timeout.Token);

        DfgetProcessStarter.TryParsePortLine(line, out var port).Should().BeTrue();
        (await new HostMetaFile(home.HostMetaPath).ReadPortAsync(timeout.Token)).Should().Be(port);
        using var client = new HttpClient();
        (await client.GetStringAsync($"http://127.0.0.1:{port}/server/ping", timeout.Token)).Should().Be("success");

        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(timeout.Token);
        }

        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0);
        (await File.ReadAllTextAsync(home.HostMetaPath, timeout.Token)).Should().Be("{\"servicePort\":0}");
        File.Exists(home.ServerLogPath).Should().BeTrue();
    }

    [Fact]
    public async Task Server_SecondProcessForSameHome_PrintsTheRunningPortAndExits()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var temp = new TempDirectory("dfget-server2-");
        var home = new WorkHomeLayout(temp.Path);
        var (fileName, prefix) = DfgetCommand();
        string[] args = [.. prefix, "server", "--ip", "127.0.0.1", "--home", home.Root];
        await using var first = ProcessHost.Start(fileName, args);
        var firstLine = await first.WaitForLineAsync(l => l.StartsWith(DfgetProcessStarter.PortLinePrefix, StringComparison.Ordinal), timeout.Token);

        var (exitCode, output) = await ProcessHost.RunAsync(fileName, args, timeout.Token);

        exitCode.Should().Be(0);
        output.Trim().Should().Be(firstLine, "one uploader per work home (#1378): the second reports the first one's port");
        first.HasExited.Should().BeFalse();
    }

    [Fact]
    public async Task Launcher_WithRealProcess_StartsDetachedUploaderAndReusesIt()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var temp = new TempDirectory("dfget-launch-");
        var home = new WorkHomeLayout(temp.Path);
        var (fileName, prefix) = DfgetCommand();
        var path = prefix.Count > 0 ? prefix[0] : fileName;
        using var launcher = new UploaderLauncher(
            new UploaderLauncherOptions { StartTimeout = TimeSpan.FromSeconds(30) },
            new DfgetProcessStarter(path, Microsoft.Extensions.Logging.Abstractions.NullLogger<DfgetProcessStarter>.Instance),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<UploaderLauncher>.Instance);
        var request = new UploaderLaunchRequest(home, "127.0.0.1", 0, "f-1-1.000", 0, TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(5), false);

        var port = await launcher.EnsureRunningAsync(request, timeout.Token);
        try
        {
            port.Should().NotBeNull();
            (await launcher.EnsureRunningAsync(request with { TaskFileName = "g-2-2.000" }, timeout.Token)).Should().Be(port);
            (await new HostMetaFile(home.HostMetaPath).ReadPortAsync(timeout.Token)).Should().Be(port!.Value);
        }
        finally
        {
            await StopUploaderAsync(home, timeout.Token);
        }
    }

    /// <summary>The detached uploader is not our child: find it by the port it owns and SIGTERM it.</summary>
    internal static async Task StopUploaderAsync(WorkHomeLayout home, CancellationToken cancellationToken)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            string cmdline;
            try
            {
                cmdline = (await File.ReadAllTextAsync(Path.Combine(dir, "cmdline"), cancellationToken)).Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (cmdline.Contains(" server ", StringComparison.Ordinal) && cmdline.Contains(home.HostMetaPath, StringComparison.Ordinal))
            {
                using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync(cancellationToken);
            }
        }
    }

    internal static (string FileName, IReadOnlyList<string> Prefix) DfgetCommand()
    {
        foreach (var dir in new[] { Environment.GetEnvironmentVariable("DRAGONFLY_BIN"), AppContext.BaseDirectory })
        {
            if (string.IsNullOrEmpty(dir))
            {
                continue;
            }

            var apphost = Path.Combine(dir, "dfget");
            if (File.Exists(apphost))
            {
                return (apphost, []);
            }

            var dll = Path.Combine(dir, "dfget.dll");
            if (File.Exists(dll))
            {
                return ("dotnet", [dll]);
            }
        }

        throw new FileNotFoundException("dfget is neither next to the tests nor in $DRAGONFLY_BIN");
    }
}
