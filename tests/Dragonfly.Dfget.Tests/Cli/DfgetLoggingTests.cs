using Dragonfly.Dfget.App.Commands;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Tests.Cli;

public sealed class DfgetLoggingTests
{
    [Fact]
    public void RollIfFull_BelowTheLimit_LeavesTheLogAlone()
    {
        using var temp = new TempDirectory();
        var log = temp.Combine("dfclient.log");
        File.WriteAllText(log, "0123456789");

        DfgetLogging.RollIfFull(log, limitBytes: 11, backups: 2);

        File.ReadAllText(log).Should().Be("0123456789");
        File.Exists(log + ".1").Should().BeFalse();
    }

    [Fact]
    public void RollIfFull_AtTheLimit_ShiftsTheBackupsAndDropsTheOldest()
    {
        using var temp = new TempDirectory();
        var log = temp.Combine("dfclient.log");
        File.WriteAllText(log, "current-0");
        File.WriteAllText(log + ".1", "older");
        File.WriteAllText(log + ".2", "oldest");

        DfgetLogging.RollIfFull(log, limitBytes: 9, backups: 2);

        File.Exists(log).Should().BeFalse("the next line starts a new file");
        File.ReadAllText(log + ".1").Should().Be("current-0");
        File.ReadAllText(log + ".2").Should().Be("older");
        File.Exists(log + ".3").Should().BeFalse("two backups are kept");
    }

    [Fact]
    public void RollIfFull_NoLogYet_DoesNothing()
    {
        using var temp = new TempDirectory();
        var log = temp.Combine("dfclient.log");

        DfgetLogging.RollIfFull(log, limitBytes: 1, backups: 2);

        Directory.EnumerateFileSystemEntries(temp.Path).Should().BeEmpty();
    }

    [Fact]
    public void Create_ForADownload_RollsAFullLogAndAppendsToANewOne()
    {
        using var temp = new TempDirectory();
        var log = Path.Combine(temp.Path, "logs", "dfclient.log");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        File.WriteAllBytes(log, new byte[DfgetLogging.LimitBytes]);

        using (var factory = DfgetLogging.Create(log, verbose: false, console: false))
        {
            factory.CreateLogger("test").LogInformation("after the roll");
        }

        new FileInfo(log + ".1").Length.Should().Be(DfgetLogging.LimitBytes);
        File.ReadAllText(log).Should().Contain("after the roll");
    }

    [Fact]
    public void Create_AUrlWithAPassword_IsLoggedWithoutIt()
    {
        using var temp = new TempDirectory();
        var log = Path.Combine(temp.Path, "logs", "dfclient.log");

        using (var factory = DfgetLogging.Create(log, verbose: false, console: false))
        {
            factory.CreateLogger("test").LogInformation("Downloading {Url}", new Uri("http://alice:s3cret@origin/a.bin"));
        }

        File.ReadAllText(log).Should().Contain("Downloading http://<redacted>@origin/a.bin").And.NotContain("s3cret");
    }
}
