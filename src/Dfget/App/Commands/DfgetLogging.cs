using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;

namespace Dragonfly.Dfget.App.Commands;

/// <summary>Serilog behind <see cref="ILoggerFactory"/>: a file under <c>&lt;home&gt;/logs</c>, optionally the console too.</summary>
public static class DfgetLogging
{
    public static ILoggerFactory Create(string logPath, bool verbose, bool console)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
            var configuration = new LoggerConfiguration()
                .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information)
                .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
                .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
                // Synchronous and shared: several dfget processes append to one file, and a background sink thread costs
                // more start-up time than the few lines a download writes.
                .WriteTo.File(
                    logPath,
                    outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} {Level:u4} sign:{ProcessId} : {Message:lj}{NewLine}{Exception}",
                    fileSizeLimitBytes: 40L * 1024 * 1024,
                    rollOnFileSizeLimit: true,
                    retainedFileCountLimit: 3,
                    shared: true);
            if (console)
            {
                configuration = configuration.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u4} {Message:lj}{NewLine}{Exception}", standardErrorFromLevel: LogEventLevel.Verbose);
            }

            var logger = configuration.Enrich.WithProperty("ProcessId", Environment.ProcessId).CreateLogger();

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
}
