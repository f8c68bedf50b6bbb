using Dragonfly.Dfdaemon.Config;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Housekeeping;

/// <summary>
/// Keeps the local repo bounded: every <see cref="DfdaemonOptions.CleanInterval"/> (2 min) files not touched for
/// <see cref="DfdaemonOptions.LocalRepoMaxAge"/> (1 h) are removed, then the oldest files until the repo is under
/// <see cref="DfdaemonOptions.LocalRepoMaxBytes"/>. Only regular files directly in the repo; files in use stay (their delete fails
/// or they are younger). The engine's work home (served by its uploader) is never touched.
/// </summary>
public sealed partial class LocalRepoCleaner : BackgroundService
{
    private readonly DfdaemonOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LocalRepoCleaner> _logger;

    public LocalRepoCleaner(DfdaemonOptions options, TimeProvider time, ILogger<LocalRepoCleaner> logger)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>One cleaning pass; returns how many files were removed.</summary>
    public int CleanOnce()
    {
        if (!Directory.Exists(_options.LocalRepo))
        {
            return 0;
        }

        var now = _time.GetUtcNow().UtcDateTime;
        var files = new DirectoryInfo(_options.LocalRepo).EnumerateFiles()
            .Select(f => (File: f, Touched: Max(f.LastAccessTimeUtc, f.LastWriteTimeUtc)))
            .OrderBy(f => f.Touched)
            .ToList();
        var removed = 0;
        var total = files.Sum(f => f.File.Length);
        foreach (var (file, touched) in files)
        {
            var expired = now - touched > _options.LocalRepoMaxAge;
            if (!expired && total <= _options.LocalRepoMaxBytes)
            {
                continue;
            }

            try
            {
                var length = file.Length;
                file.Delete();
                total -= length;
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.DeleteFailed(_logger, file.FullName, e.Message);
            }
        }

        if (removed > 0)
        {
            Log.Cleaned(_logger, removed, total);
        }

        return removed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.CleanInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                CleanOnce();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 50, Level = LogLevel.Information, Message = "Local repo cleaned: {Removed} files removed, {Bytes} bytes left")]
        public static partial void Cleaned(ILogger logger, int removed, long bytes);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 51, Level = LogLevel.Debug, Message = "Could not remove {File}: {Error}")]
        public static partial void DeleteFailed(ILogger logger, string file, string error);
    }
}
