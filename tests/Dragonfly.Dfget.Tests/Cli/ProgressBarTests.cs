using Dragonfly.Dfget.App.Commands;
using Dragonfly.Dfget.Engine;
using Spectre.Console;

namespace Dragonfly.Dfget.Tests.Cli;

public sealed class ProgressBarTests
{
    private const long Length = (3 * 1024 * 1024) + 123;

    [Fact]
    public void Sink_PiecesFetchedAgainAfterAMigration_ShowsTheCompletedBytesNeverPastTheLength()
    {
        var task = new ProgressTask(1, "download", 1);
        var sink = new ProgressBar.Sink(task);
        sink.Report(new DownloadProgress(DownloadProgressKind.Registered, Length, 0));

        // 1 MiB pieces 0 and 1, then another supernode's 2 MiB pieces 0 (over both) and 1: 5 MiB + 123 transferred.
        sink.Report(Piece(completed: 1024 * 1024, length: 1024 * 1024));
        sink.Report(Piece(completed: 2 * 1024 * 1024, length: 1024 * 1024));
        sink.Report(Piece(completed: 2 * 1024 * 1024, length: 2 * 1024 * 1024));
        task.Value.Should().Be(2 * 1024 * 1024, "the bytes fetched again were on disk already");
        sink.Report(Piece(completed: Length, length: (1024 * 1024) + 123));

        task.Value.Should().Be(Length);
        task.Percentage.Should().Be(100);
    }

    [Fact]
    public void Sink_ReportsOutOfOrder_NeverGoesBack()
    {
        var task = new ProgressTask(1, "download", 1);
        var sink = new ProgressBar.Sink(task);
        sink.Report(new DownloadProgress(DownloadProgressKind.Registered, Length, 0));

        sink.Report(Piece(completed: 2 * 1024 * 1024, length: 1024 * 1024));
        sink.Report(Piece(completed: 1024 * 1024, length: 1024 * 1024));

        task.Value.Should().Be(2 * 1024 * 1024);
    }

    [Fact]
    public void Sink_BackToTheSource_StartsOverAtZero()
    {
        var task = new ProgressTask(1, "download", 1);
        var sink = new ProgressBar.Sink(task);
        sink.Report(new DownloadProgress(DownloadProgressKind.Registered, Length, 0));
        sink.Report(Piece(completed: 2 * 1024 * 1024, length: 1024 * 1024));

        sink.Report(new DownloadProgress(DownloadProgressKind.BackSource, Length, 0));
        task.Value.Should().Be(0);
        sink.Report(new DownloadProgress(DownloadProgressKind.SourceBytes, Length, 4096));

        task.Value.Should().Be(4096);
    }

    private static DownloadProgress Piece(long completed, int length) =>
        new(DownloadProgressKind.PieceCompleted, Length, completed, Length: length);
}
