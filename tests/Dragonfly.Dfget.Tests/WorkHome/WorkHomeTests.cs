using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfget.Tests.WorkHome;

public sealed class WorkHomeTests
{
    [Fact]
    public async Task HostMeta_WriteThenRead_RoundTripsOriginalFormat()
    {
        using var temp = new TempDirectory();
        var meta = new HostMetaFile(temp.Combine("meta", "host.meta"));

        await meta.WritePortAsync(15001, CancellationToken.None);

        (await File.ReadAllTextAsync(meta.Path)).Should().Be("{\"servicePort\":15001}");
        (await meta.ReadPortAsync(CancellationToken.None)).Should().Be(15001);
        Directory.GetFiles(temp.Combine("meta")).Should().ContainSingle("no temp file is left behind");
    }

    [Fact]
    public async Task HostMeta_ClearIfPort_ZeroesOnlyTheNamedPort()
    {
        using var temp = new TempDirectory();
        var meta = new HostMetaFile(temp.Combine("meta", "host.meta"));
        await meta.WritePortAsync(15001, CancellationToken.None);

        (await meta.ClearIfPortAsync(15002, CancellationToken.None)).Should().BeFalse("the file names another uploader");
        (await meta.ReadPortAsync(CancellationToken.None)).Should().Be(15001);

        (await meta.ClearIfPortAsync(15001, CancellationToken.None)).Should().BeTrue();
        (await File.ReadAllTextAsync(meta.Path)).Should().Be("{\"servicePort\":0}");
        Directory.GetFiles(temp.Combine("meta")).Should().ContainSingle("no temp file is left behind");
    }

    [Fact]
    public async Task HostMeta_ClearIfPort_WhenTheWorkHomeIsGone_CreatesNothing()
    {
        using var temp = new TempDirectory();
        var home = temp.Combine("home");
        var meta = new HostMetaFile(Path.Combine(home, "meta", "host.meta"));

        (await meta.ClearIfPortAsync(15001, CancellationToken.None)).Should().BeFalse();
        Directory.Exists(home).Should().BeFalse();

        // Deleted between the read that found this port and the write: the write must not bring the directory back.
        await meta.WritePortAsync(15001, CancellationToken.None);
        (await meta.ClearIfPortAsync(15001, () => Directory.Delete(home, recursive: true), CancellationToken.None)).Should().BeFalse();
        Directory.Exists(home).Should().BeFalse("an uploader on its way out must not recreate a deleted work home");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"servicePort\":-3}")]
    [InlineData("{\"servicePort\":70000}")]
    public async Task HostMeta_MissingOrInvalid_ReadsZero(string? content)
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("host.meta");
        if (content is not null)
        {
            await File.WriteAllTextAsync(path, content);
        }

        (await new HostMetaFile(path).ReadPortAsync(CancellationToken.None)).Should().Be(0);
    }

    [Fact]
    public async Task HostMeta_OriginalCasingAndExtraFields_AreRead()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("host.meta");
        await File.WriteAllTextAsync(path, "{\"ServicePort\":15123,\"other\":1}");

        (await new HostMetaFile(path).ReadPortAsync(CancellationToken.None)).Should().Be(15123);
    }

    [Fact]
    public void Lock_SecondAcquire_FailsUntilReleased()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("meta", "uploader.lock");

        var first = WorkHomeLock.TryAcquire(path);
        first.Should().NotBeNull();
        WorkHomeLock.TryAcquire(path).Should().BeNull();
        first!.Dispose();
        using var again = WorkHomeLock.TryAcquire(path);
        again.Should().NotBeNull();
    }

    [Fact]
    public void Layout_Paths_FollowTheOriginal()
    {
        var home = new WorkHomeLayout("/h/.small-dragonfly");

        home.HostMetaPath.Should().Be("/h/.small-dragonfly/meta/host.meta");
        home.ServiceFilePath("f-1-1.000").Should().Be("/h/.small-dragonfly/data/f-1-1.000.service");
        home.ClientLogPath.Should().Be("/h/.small-dragonfly/logs/dfclient.log");
        home.ServerLogPath.Should().Be("/h/.small-dragonfly/logs/dfserver.log");
    }

    [Fact]
    public async Task UserHome_ReadsHomeFromPasswdNotEnvironment()
    {
        using var temp = new TempDirectory();
        var passwd = temp.Combine("passwd");
        await File.WriteAllTextAsync(passwd, "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/srv/alice:/bin/sh\n");

        UserHome.Resolve(passwd, "alice").Should().Be("/srv/alice");
        UserHome.Resolve(passwd, "root").Should().Be("/root");
    }
}
