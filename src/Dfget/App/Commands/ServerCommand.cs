using System.Globalization;
using System.Runtime.InteropServices;
using Dragonfly.Common.Http;
using Dragonfly.Dfget.App.Cli;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;

namespace Dragonfly.Dfget.App.Commands;

/// <summary>
/// <c>dfget server</c>: hosts the uploader until it is idle for the alive time or gets SIGINT/SIGTERM/SIGHUP. Prints exactly
/// <c>dfget uploader server port is &lt;port&gt;</c> once listening, then never writes to stdout/stderr again (the
/// parent stops reading). When another uploader already owns the work home and answers, its port is printed instead.
/// </summary>
public static class ServerCommand
{
    public static async Task<int> RunAsync(ServerInvocation invocation, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (Environment.GetEnvironmentVariable(DfgetProcessStarter.DetachVariable) == "1")
        {
            // Launched by a download: outlive it and its terminal. Run by hand, Ctrl-C keeps working.
            ProcessSession.Detach();
        }

        // A launching download may hand over the socket it reserved our --port with (UploaderPortReservation).
        var options = invocation.Options with
        {
            ListenDescriptor = UploaderPortReservation.ParseDescriptor(Environment.GetEnvironmentVariable(UploaderPortReservation.ListenDescriptorVariable)),
        };
        Environment.SetEnvironmentVariable(UploaderPortReservation.ListenDescriptorVariable, null);

        using var loggerFactory = DfgetLogging.Create(invocation.Home.ServerLogPath, invocation.Verbose, console: false, rollWhileRunning: true);
        await using var server = new PeerServer(options, loggerFactory);
        int port;
        try
        {
            foreach (var dir in options.DataDirs)
            {
                Directory.CreateDirectory(dir);
            }

            port = await server.StartAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (UploaderStartException e) when (e.Failure == UploaderStartFailure.WorkHomeLocked)
        {
            var existing = await FindRunningAsync(options.HostMetaPath!, options.BindAddress).ConfigureAwait(false);
            if (existing > 0)
            {
                await stdout.WriteLineAsync(PortLine(existing)).ConfigureAwait(false);
                await stdout.FlushAsync().ConfigureAwait(false);
                return 0;
            }

            await stderr.WriteLineAsync($"dfget server: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (Exception e) when (e is UploaderStartException or IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"dfget server: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);

        await stdout.WriteLineAsync(PortLine(port)).ConfigureAwait(false);
        await stdout.FlushAsync().ConfigureAwait(false);
        Console.SetOut(TextWriter.Null);
        Console.SetError(TextWriter.Null);

        await server.Completion.ConfigureAwait(false);
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            server.RequestShutdown();
        }
    }

    public static string PortLine(int port) =>
        DfgetProcessStarter.PortLinePrefix + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The port of the uploader that owns the work home, once it answers <c>/server/ping</c> (waits up to 3 s for it to record its port).</summary>
    private static async Task<int> FindRunningAsync(string hostMetaPath, System.Net.IPAddress bindAddress)
    {
        var host = bindAddress.Equals(System.Net.IPAddress.Any) || bindAddress.Equals(System.Net.IPAddress.IPv6Any) ? "127.0.0.1" : bindAddress.ToString();
        if (host.Contains(':', StringComparison.Ordinal))
        {
            host = $"[{host}]";
        }

        using var client = new HttpClient(new SocketErrorHandler(new SocketsHttpHandler { UseProxy = false })) { Timeout = TimeSpan.FromSeconds(1) };
        var meta = new HostMetaFile(hostMetaPath);
        for (var attempt = 0; attempt < 30; attempt++)
        {
            var port = await meta.ReadPortAsync(CancellationToken.None).ConfigureAwait(false);
            if (port > 0)
            {
                try
                {
                    using var response = await client.GetAsync(new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{host}:{port}/server/ping"))).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        return port;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        return 0;
    }
}
