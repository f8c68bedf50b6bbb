using Dragonfly.Dfdaemon.Housekeeping;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfdaemon.Tests.Housekeeping;

public class LocalRepoCleanerTests
{
    private sealed class ShiftedTime(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }

    [Fact]
    public void CleanOnce_FilesOlderThanMaxAge_Removed()
    {
        using var home = new TempDirectory();
        var options = TestDfdaemon.DefaultOptions(home.Path);
        Directory.CreateDirectory(options.LocalRepo);
        var old = Path.Combine(options.LocalRepo, "old");
        var fresh = Path.Combine(options.LocalRepo, "fresh");
        File.WriteAllText(old, "x");
        File.WriteAllText(fresh, "y");
        var past = DateTime.UtcNow.AddHours(-2);
        File.SetLastWriteTimeUtc(old, past);
        File.SetLastAccessTimeUtc(old, past);

        new LocalRepoCleaner(options, TimeProvider.System, NullLogger<LocalRepoCleaner>.Instance).CleanOnce().Should().Be(1);

        File.Exists(old).Should().BeFalse();
        File.Exists(fresh).Should().BeTrue();
        new LocalRepoCleaner(options, new ShiftedTime(TimeSpan.FromHours(2)), NullLogger<LocalRepoCleaner>.Instance).CleanOnce().Should().Be(1);
        File.Exists(fresh).Should().BeFalse();
    }

    [Fact]
    public async Task Execute_EveryCleanInterval_RemovesExpiredFiles()
    {
        using var home = new TempDirectory();
        var options = TestDfdaemon.DefaultOptions(home.Path);
        Directory.CreateDirectory(options.LocalRepo);
        var file = Path.Combine(options.LocalRepo, "blob");
        File.WriteAllText(file, "x");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(2));
        using var cleaner = new LocalRepoCleaner(options, time, NullLogger<LocalRepoCleaner>.Instance);
        await cleaner.StartAsync(CancellationToken.None);
        try
        {
            for (var i = 0; i < 50 && time.ActiveTimers == 0; i++)
            {
                await Task.Delay(20);
            }

            File.Exists(file).Should().BeTrue("nothing runs before the first interval");
            time.Advance(options.CleanInterval);
            for (var i = 0; i < 100 && File.Exists(file); i++)
            {
                await Task.Delay(20);
            }

            File.Exists(file).Should().BeFalse();
        }
        finally
        {
            await cleaner.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void CleanOnce_OverMaxSize_RemovesOldestFirst()
    {
        using var home = new TempDirectory();
        var options = TestDfdaemon.DefaultOptions(home.Path) with { LocalRepoMaxBytes = 250 };
        Directory.CreateDirectory(options.LocalRepo);
        for (var i = 0; i < 3; i++)
        {
            var f = Path.Combine(options.LocalRepo, "f" + i);
            File.WriteAllBytes(f, new byte[100]);
            var t = DateTime.UtcNow.AddMinutes(-30 + i);
            File.SetLastWriteTimeUtc(f, t);
            File.SetLastAccessTimeUtc(f, t);
        }

        new LocalRepoCleaner(options, TimeProvider.System, NullLogger<LocalRepoCleaner>.Instance).CleanOnce().Should().Be(1);
        File.Exists(Path.Combine(options.LocalRepo, "f0")).Should().BeFalse();
        File.Exists(Path.Combine(options.LocalRepo, "f2")).Should().BeTrue();
    }
}
