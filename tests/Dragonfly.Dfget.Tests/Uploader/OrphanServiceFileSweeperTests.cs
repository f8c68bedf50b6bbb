using Dragonfly.Dfget.Downloading;
using Dragonfly.Dfget.Uploader;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.Uploader;

/// <summary>
/// <c>.service</c> files no task tracks any more (a download that could not delete the file it gave up, one that died) are
/// removed, but never a registered task's, a live download's, a link, a special file or anything outside the data dir's top level.
/// </summary>
public sealed class OrphanServiceFileSweeperTests : IDisposable
{
    private static readonly TimeSpan Age = UploaderOptions.DefaultAliveTime;
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new();
    private readonly UploadTaskRegistry _tasks;

    public OrphanServiceFileSweeperTests()
    {
        _tasks = new UploadTaskRegistry(_clock);
        Directory.CreateDirectory(DataDir);
    }

    private string DataDir => _dir.Combine("data");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Age_IsTheLongerOfTheExpireAndAliveTimes()
    {
        Sweeper().Age.Should().Be(Age);
        Sweeper(o => o with { ExpireTime = TimeSpan.FromHours(1) }).Age.Should().Be(TimeSpan.FromHours(1));
    }

    [Fact]
    public void Sweep_UntrackedFileUnwrittenForTheAge_IsDeleted()
    {
        var file = ServiceFile("left-1-1.000", writtenAgo: Age);

        Sweeper().Sweep().Should().Be(1);

        File.Exists(file).Should().BeFalse();
    }

    [Fact]
    public void Sweep_UntrackedFileWrittenWithinTheAge_IsKept()
    {
        var recent = ServiceFile("recent-1-1.000", writtenAgo: Age - TimeSpan.FromSeconds(1));
        var future = ServiceFile("future-1-1.000", writtenAgo: -TimeSpan.FromHours(1));

        Sweeper().Sweep().Should().Be(0);

        File.Exists(recent).Should().BeTrue();
        File.Exists(future).Should().BeTrue("a file stamped in the future has not been unwritten for any time");
    }

    [Fact]
    public void Sweep_RegisteredTask_IsKept()
    {
        var file = ServiceFile("running-1-1.000", writtenAgo: TimeSpan.FromHours(1));
        _tasks.TryRegister("running-1-1.000", DataDir, file);

        Sweeper().Sweep().Should().Be(0);

        File.Exists(file).Should().BeTrue("a registered task's file expires as a task, or stays with its download");
    }

    [Fact]
    public void Sweep_DataDirThisUploaderDoesNotOwn_KeepsUntrackedFiles()
    {
        var file = ServiceFile("other-1-1.000", writtenAgo: TimeSpan.FromHours(1));

        Sweeper(o => o with { OwnsDataDirs = false }).Sweep().Should().Be(0);

        File.Exists(file).Should().BeTrue("another uploader sharing the dir may serve it (#1378)");
    }

    [Fact]
    public void Sweep_NameItsDownloadWithdrew_IsDeletedAtOnceEvenInADirNotOwned()
    {
        // The download gave the file up and told the uploader, but its own delete failed.
        var file = ServiceFile("gone-1-1.000", writtenAgo: TimeSpan.Zero);
        _tasks.Withdraw(_tasks.TryRegister("gone-1-1.000", DataDir, file)!).Should().BeTrue();

        Sweeper(o => o with { OwnsDataDirs = false }).Sweep().Should().Be(1);

        File.Exists(file).Should().BeFalse();
    }

    [Fact]
    public void Sweep_FileALiveDownloadHoldsOpen_IsKeptUntilItCloses()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var path = Path.Combine(DataDir, "slow-1-1.000.service");
        var sweeper = Sweeper();
        using (var download = PieceFile.Create(path))
        {
            // Stalled for longer than the age (a supernode that makes it wait), its file untracked (no uploader took it).
            File.SetLastWriteTimeUtc(path, _clock.GetUtcNow().UtcDateTime - TimeSpan.FromHours(1));

            sweeper.Sweep().Should().Be(0);
            File.Exists(path).Should().BeTrue("the download still writes it");
        }

        sweeper.Sweep().Should().Be(1);
        File.Exists(path).Should().BeFalse();
    }

    [Fact]
    public void Sweep_SymbolicLink_IsNeitherFollowedNorRemoved()
    {
        var outside = _dir.Combine("outside.bin");
        File.WriteAllBytes(outside, new byte[10]);
        var link = Path.Combine(DataDir, "link-1-1.000.service");
        File.CreateSymbolicLink(link, outside);
        File.SetLastWriteTimeUtc(outside, _clock.GetUtcNow().UtcDateTime - TimeSpan.FromHours(1));
        _clock.Advance(TimeSpan.FromHours(1));

        Sweeper().Sweep().Should().Be(0);

        File.Exists(outside).Should().BeTrue();
        new FileInfo(link).LinkTarget.Should().Be(outside);
    }

    [Fact]
    public async Task Sweep_FifoSocketSubdirectoryAndOtherNames_AreLeftAlone()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fifo = Path.Combine(DataDir, "fifo-1-1.000.service");
        await ServiceFileOpenerTests.MakeFifoAsync(fifo);
        using var socket = ServiceFileOpenerTests.BindUnixSocket(Path.Combine(DataDir, "socket-1-1.000.service"));
        File.SetLastWriteTimeUtc(fifo, _clock.GetUtcNow().UtcDateTime - TimeSpan.FromHours(1));
        File.SetLastWriteTimeUtc(Path.Combine(DataDir, "socket-1-1.000.service"), _clock.GetUtcNow().UtcDateTime - TimeSpan.FromHours(1));
        Directory.CreateDirectory(Path.Combine(DataDir, "sub"));
        var nested = ServiceFile(Path.Combine("sub", "nested-1-1.000"), writtenAgo: TimeSpan.FromHours(1));
        var other = Path.Combine(DataDir, "notes.txt");
        File.WriteAllBytes(other, new byte[1]);
        var invalid = ServiceFile("a..b", writtenAgo: TimeSpan.FromHours(1));
        _clock.Advance(TimeSpan.FromHours(1));

        try
        {
            (await Task.Run(() => Sweeper().Sweep()).WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(0);
        }
        finally
        {
            ServiceFileOpenerTests.ReleaseFifo(fifo);
        }

        File.Exists(fifo).Should().BeTrue();
        File.Exists(Path.Combine(DataDir, "socket-1-1.000.service")).Should().BeTrue();
        File.Exists(nested).Should().BeTrue("sub-directories are not entered");
        File.Exists(other).Should().BeTrue();
        File.Exists(invalid).Should().BeTrue("not a task file name");
    }

    [Fact]
    public void Sweep_DataDirMissing_RemovesNothingAndDoesNotThrow()
    {
        Directory.Delete(DataDir);

        Sweeper().Sweep().Should().Be(0);
    }

    private OrphanServiceFileSweeper Sweeper(Func<UploaderOptions, UploaderOptions>? configure = null)
    {
        var options = new UploaderOptions { DataDirs = [DataDir], OwnsDataDirs = true };
        return new OrphanServiceFileSweeper(configure?.Invoke(options) ?? options, _tasks, _clock, NullLogger.Instance);
    }

    /// <summary>Writes <c>data/&lt;name&gt;.service</c>, last written <paramref name="writtenAgo"/> before the clock's now.</summary>
    private string ServiceFile(string name, TimeSpan writtenAgo)
    {
        var path = Path.Combine(DataDir, name + TaskFileNames.ServiceSuffix);
        File.WriteAllBytes(path, new byte[10]);
        File.SetLastWriteTimeUtc(path, _clock.GetUtcNow().UtcDateTime - writtenAgo);
        return path;
    }
}
