using System.Globalization;
using System.Runtime.InteropServices;
using Dragonfly.Common.Http;
using Dragonfly.Dfget.App.Cli;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.App.Commands;

/// <summary>
/// <c>dfget server</c>: hosts the uploader until it is idle for the alive time or gets SIGINT/SIGTERM/SIGHUP. Prints exactly
/// <c>dfget uploader server port is &lt;port&gt;</c> once listening, then never writes to stdout/stderr again (the
/// parent stops reading). When another uploader already owns the work home and answers, its port is printed instead;
/// one that is stopping (503) is waited out and replaced.
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
        PeerServer? started;
        int port;
        try
        {
            foreach (var dir in options.DataDirs)
            {
                Directory.CreateDirectory(dir);
            }

            (started, port) = await StartOrFindRunningAsync(options, loggerFactory).ConfigureAwait(false);
        }
        catch (Exception e) when (e is UploaderStartException or IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"dfget server: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        if (started is null)
        {
            await stdout.WriteLineAsync(PortLine(port)).ConfigureAwait(false);
            await stdout.FlushAsync().ConfigureAwait(false);
            return 0;
        }

        await using var server = started;
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

    /// <summary>
    /// Starts the uploader, or finds the one that owns the work home: that one's port once it answers
    /// <c>/server/ping</c> (returned with a null server). One that is stopping answers 503 and lets go of the work home
    /// within seconds, so the start is tried again meanwhile; after about 3 s the lock's owner wins
    /// (<see cref="UploaderStartException"/>).
    /// </summary>
    private static async Task<(PeerServer? Server, int Port)> StartOrFindRunningAsync(UploaderOptions options, ILoggerFactory loggerFactory)
    {
        using var client = new HttpClient(new SocketErrorHandler(new SocketsHttpHandler { UseProxy = false })) { Timeout = TimeSpan.FromSeconds(1) };
        var meta = new HostMetaFile(options.HostMetaPath!);
        for (var attempt = 0; ; attempt++)
        {
            var server = new PeerServer(options, loggerFactory);
            try
            {
                return (server, await server.StartAsync(CancellationToken.None).ConfigureAwait(false));
            }
            catch (UploaderStartException e) when (e.Failure == UploaderStartFailure.WorkHomeLocked && attempt < 30)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            var port = await meta.ReadPortAsync(CancellationToken.None).ConfigureAwait(false);
            if (port > 0 && await AnswersPingAsync(client, options.BindAddress, port).ConfigureAwait(false))
            {
                return (null, port);
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>Whether the uploader on <paramref name="port"/> answers <c>/server/ping</c> with 2xx (503 while it stops).</summary>
    private static async Task<bool> AnswersPingAsync(HttpClient client, System.Net.IPAddress bindAddress, int port)
    {
        try
        {
            using var response = await client.GetAsync(new Uri(UploaderLauncher.UploaderUri(bindAddress.ToString(), port), "server/ping")).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
