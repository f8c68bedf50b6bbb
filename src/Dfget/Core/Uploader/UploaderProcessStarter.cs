using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Uploader;

/// <summary>Starts a detached uploader process and returns the port it printed, or null.</summary>
public interface IUploaderProcessStarter
{
    /// <param name="listener">
    /// A listening socket for the child to serve on (its <c>--port</c>), or null to let it bind. The starter closes this
    /// process's copy once the child has been started (or could not be).
    /// </param>
    Task<int?> StartAsync(IReadOnlyList<string> serverArguments, TimeSpan timeout, UploaderPortReservation? listener, CancellationToken cancellationToken);
}

/// <summary>
/// Runs <c>dfget server ...</c> (this executable, or <c>dotnet dfget.dll</c>, or an explicit path) with its own stdio
/// pipes, reads <c>dfget uploader server port is &lt;port&gt;</c> and lets it go: the child puts itself in a new session
/// and stops writing to its stdout after that line, so it outlives this process.
/// </summary>
public sealed partial class DfgetProcessStarter : IUploaderProcessStarter
{
    public const string PortLinePrefix = "dfget uploader server port is ";

    /// <summary>Set (to 1) for a launched uploader: it then leaves the launching terminal's session.</summary>
    public const string DetachVariable = "DRAGONFLY_DFGET_DETACH";

    private readonly string? _explicitPath;
    private readonly ILogger _logger;

    /// <summary>One spawn at a time: a listening socket's inheritable copy exists only during its own spawn.</summary>
    private readonly object _spawnGate = new();

    /// <param name="dfgetPath">The dfget executable or dfget.dll; null = resolve (<see cref="ResolveCommand"/>).</param>
    public DfgetProcessStarter(string? dfgetPath, ILogger<DfgetProcessStarter> logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _explicitPath = dfgetPath;
        _logger = logger;
    }

    public async Task<int?> StartAsync(IReadOnlyList<string> serverArguments, TimeSpan timeout, UploaderPortReservation? listener, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverArguments);
        using var owned = listener;
        var command = ResolveCommand(_explicitPath);
        if (command is null)
        {
            Log.NoExecutable(_logger);
            return null;
        }

        var info = new ProcessStartInfo(command.Value.FileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.Environment[DetachVariable] = "1";
        info.Environment.Remove(UploaderPortReservation.ListenDescriptorVariable);
        foreach (var arg in command.Value.PrefixArguments.Concat(serverArguments))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = info };
        try
        {
            bool started;
            lock (_spawnGate)
            {
                started = listener is null
                    ? process.Start()
                    : listener.WithInheritableCopy(descriptor =>
                    {
                        info.Environment[UploaderPortReservation.ListenDescriptorVariable] = descriptor;
                        return process.Start();
                    });
            }

            if (!started)
            {
                return null;
            }
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            Log.SpawnFailed(_logger, command.Value.FileName, e);
            return null;
        }
        finally
        {
            // The child has its own copy of the listening socket now (or there is no child).
            listener?.Dispose();
        }

        process.StandardInput.Close();
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                if (e.Data is not null && stderr.Length < 4096)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token).ConfigureAwait(false) is { } line)
            {
                if (TryParsePortLine(line, out var port))
                {
                    return port;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.PortLineTimeout(_logger, timeout);
            TryKill(process);
            return null;
        }

        // The child ended without a port line.
        string errors;
        lock (stderr)
        {
            errors = stderr.ToString().Trim();
        }

        Log.ExitedWithoutPort(_logger, errors);
        return null;
    }

    public static bool TryParsePortLine(string line, out int port)
    {
        port = 0;
        return line is not null
            && line.StartsWith(PortLinePrefix, StringComparison.Ordinal)
            && int.TryParse(line.AsSpan(PortLinePrefix.Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out port)
            && port is > 0 and <= 65535;
    }

    /// <summary>
    /// How to run dfget: the explicit path (an executable, or a .dll run by the current dotnet host); else this process when
    /// it is dfget (apphost or <c>dotnet dfget.dll</c>); else <c>dfget</c> next to this program or in <c>$DRAGONFLY_BIN</c>.
    /// </summary>
    public static (string FileName, IReadOnlyList<string> PrefixArguments)? ResolveCommand(string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return FromPath(explicitPath);
        }

        var processPath = Environment.ProcessPath;
        var processName = Path.GetFileNameWithoutExtension(processPath);
        if (processName == "dfget" && processPath is not null)
        {
            return (processPath, []);
        }

        // Run by the dotnet host, this process's first argument is the program's .dll (a native dfget has no .dll).
        var entry = Environment.GetCommandLineArgs() is [var first, ..] ? first : null;
        if (processName == "dotnet" && processPath is not null && Path.GetFileName(entry) == "dfget.dll")
        {
            return (processPath, [entry!]);
        }

        foreach (var dir in new[] { AppContext.BaseDirectory, Environment.GetEnvironmentVariable("DRAGONFLY_BIN") })
        {
            if (string.IsNullOrEmpty(dir))
            {
                continue;
            }

            var apphost = Path.Combine(dir, OperatingSystem.IsWindows() ? "dfget.exe" : "dfget");
            if (File.Exists(apphost))
            {
                return (apphost, []);
            }

            var dll = Path.Combine(dir, "dfget.dll");
            if (File.Exists(dll))
            {
                return FromPath(dll);
            }
        }

        return null;
    }

    private static (string, IReadOnlyList<string>)? FromPath(string path)
    {
        if (!path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return (path, []);
        }

        var host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        return (host, [path]);
    }

    private static void TryKill(Process process)
    {
        try
        {
            process.Kill();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 50, Level = LogLevel.Warning, Message = "No dfget executable found to start the uploader")]
        public static partial void NoExecutable(ILogger logger);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 51, Level = LogLevel.Warning, Message = "Cannot start {FileName}")]
        public static partial void SpawnFailed(ILogger logger, string fileName, Exception exception);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 52, Level = LogLevel.Warning, Message = "The uploader printed no port within {Timeout}")]
        public static partial void PortLineTimeout(ILogger logger, TimeSpan timeout);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 53, Level = LogLevel.Warning, Message = "The uploader exited without a port line: {Errors}")]
        public static partial void ExitedWithoutPort(ILogger logger, string errors);
    }
}
