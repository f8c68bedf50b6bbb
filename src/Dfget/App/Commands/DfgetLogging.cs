using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;

namespace Dragonfly.Dfget.App.Commands;

/// <summary>Serilog behind <see cref="ILoggerFactory"/>: a file under <c>&lt;home&gt;/logs</c>, optionally the console too.</summary>
/// <remarks>
/// Each log is kept under <see cref="LimitBytes"/> with <see cref="Backups"/> older files. A long-running uploader rolls
/// while it runs (Serilog's rolling sink). A download rolls the file once as it starts (<see cref="RollIfFull"/>) and then
/// appends with the plain sink: the rolling sink builds a compiled <c>Regex</c> for its file names, which cost every dfget
/// run Reflection.Emit and three fully optimised JIT compiles on its main thread before the download began.
/// </remarks>
public static class DfgetLogging
{
    /// <summary>A log file's size limit (the original's <c>maxSize</c> default).</summary>
    public const long LimitBytes = 40L * 1024 * 1024;

    /// <summary>Older files kept beside each log.</summary>
    public const int Backups = 2;

    private const string FileTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} {Level:u4} sign:{ProcessId} : {Message:lj}{NewLine}{Exception}";

    public static ILoggerFactory Create(string logPath, bool verbose, bool console, bool rollWhileRunning = false)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
            var configuration = new LoggerConfiguration()
                .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information)
                .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
                .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning);

            // Synchronous and shared: several dfget processes append to one file, and a background sink thread costs
            // more start-up time than the few lines a download writes.
            if (rollWhileRunning)
            {
                configuration = configuration.WriteTo.File(
                    logPath, outputTemplate: FileTemplate, fileSizeLimitBytes: LimitBytes, rollOnFileSizeLimit: true, retainedFileCountLimit: Backups + 1, shared: true);
            }
            else
            {
                RollIfFull(logPath, LimitBytes, Backups);
                configuration = configuration.WriteTo.File(logPath, outputTemplate: FileTemplate, fileSizeLimitBytes: LimitBytes, shared: true);
            }

            if (console)
            {
                configuration = configuration.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u4} {Message:lj}{NewLine}{Exception}", standardErrorFromLevel: LogEventLevel.Verbose);
            }

            var logger = configuration.Enrich.WithProperty("ProcessId", Environment.ProcessId).Enrich.With<Dragonfly.Common.Logging.RedactingEnricher>().CreateLogger();

            // Serilog's own factory rather than LoggerFactory.Create(b => b.AddSerilog(...)): that one builds a service
            // provider plus the options and filter machinery just to hold one provider (~8 ms of a small download's start-up).
            // Serilog already applies the same minimum level and the overrides above.
            return new SerilogLoggerFactory(logger, dispose: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Logging must never stop a download.
            return NullLoggerFactory.Instance;
        }
    }

    /// <summary>
    /// When <paramref name="path"/> has reached <paramref name="limitBytes"/>, shifts it to <c>path.1</c> (<c>.1</c> to
    /// <c>.2</c> and so on, dropping <c>path.{backups}</c>). Two processes rolling at once lose at most an old backup, never
    /// the current file's lines: a process still appending keeps writing into the file it opened.
    /// </summary>
    internal static void RollIfFull(string path, long limitBytes, int backups)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length < limitBytes)
            {
                return;
            }

            File.Delete($"{path}.{backups}");
            for (var i = backups - 1; i >= 1; i--)
            {
                if (File.Exists($"{path}.{i}"))
                {
                    File.Move($"{path}.{i}", $"{path}.{i + 1}", overwrite: true);
                }
            }

            File.Move(path, path + ".1", overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another dfget rolled it first, or the directory is read-only: append to whatever is there.
        }
    }
}
