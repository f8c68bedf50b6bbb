using Dragonfly.Dfget.Engine;
using Spectre.Console;

namespace Dragonfly.Dfget.App.Commands;

/// <summary><c>--showbar</c>: a live Spectre.Console bar with bytes, rate and ETA, fed by the engine's progress reports.</summary>
internal static class ProgressBar
{
    public static async Task<DownloadResult> RunAsync(Func<IProgress<DownloadProgress>, Task<DownloadResult>> download)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new DownloadedColumn(),
                new TransferSpeedColumn(),
                new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("download", autoStart: true, maxValue: 1);
                task.IsIndeterminate = true;
                var sink = new Sink(task);
                var result = await download(sink).ConfigureAwait(false);
                if (result.Success)
                {
                    task.MaxValue = Math.Max(1, task.Value);
                    task.Value = task.MaxValue;
                }

                task.StopTask();
                return result;
            }).ConfigureAwait(false);
    }

    /// <summary>
    /// Thread-safe: reports arrive from several piece tasks at once, so out of order. The bar shows the engine's completed
    /// bytes (a piece fetched again after a migration counts once), never going back, until the origin takes over.
    /// </summary>
    internal sealed class Sink(ProgressTask task) : IProgress<DownloadProgress>
    {
        private readonly Lock _gate = new();

        public void Report(DownloadProgress value)
        {
            lock (_gate)
            {
                switch (value.Kind)
                {
                    case DownloadProgressKind.Registered or DownloadProgressKind.BackSource when value.TotalLength > 0:
                        task.IsIndeterminate = false;
                        task.MaxValue = value.TotalLength;
                        if (value.Kind == DownloadProgressKind.BackSource)
                        {
                            task.Value = 0;
                        }

                        break;
                    case DownloadProgressKind.PieceCompleted:
                        task.Value = Math.Max(task.Value, Math.Min(value.CompletedBytes, task.MaxValue));
                        break;
                    case DownloadProgressKind.SourceBytes:
                        task.Value = Math.Min(value.CompletedBytes, task.MaxValue);
                        break;
                }
            }
        }
    }
}
