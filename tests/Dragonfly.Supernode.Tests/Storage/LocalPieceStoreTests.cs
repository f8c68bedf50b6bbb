using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Storage;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Options;

namespace Dragonfly.Supernode.Tests.Storage;

public sealed class LocalPieceStoreTests : IDisposable
{
    private static readonly TaskId Id = TaskId.Parse("6dafc821ffe8bf28cc58d1507e9bf0a52893bbf07ccd288458225f43246f38f9");
    private readonly TempDirectory _home = new("cdn-store-");
    private readonly LocalPieceStore _store;

    public LocalPieceStoreTests() => _store = new LocalPieceStore(Options.Create(new CdnOptions { HomeDir = _home.Path }));

    public void Dispose() => _home.Dispose();

    [Fact]
    public void DataPath_UsesTheShardedLayoutUnderHome()
    {
        _store.DataPath(Id).Should().Be(Path.Combine(_home.Path, "repo", "download", "6da", Id.Value));
        FluentActions.Invoking(() => _store.DataPath(default)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task WriteAsync_ConcurrentOffsets_ReadBackExactly()
    {
        var a = Enumerable.Repeat((byte)1, 1000).ToArray();
        var b = Enumerable.Repeat((byte)2, 1000).ToArray();
        _store.Truncate(Id, 0);

        await Task.WhenAll(_store.WriteAsync(Id, 1000, b, CancellationToken.None).AsTask(), _store.WriteAsync(Id, 0, a, CancellationToken.None).AsTask());

        _store.Length(Id).Should().Be(2000);
        var buffer = new byte[3000];
        (await _store.ReadAsync(Id, 0, buffer, CancellationToken.None)).Should().Be(2000);
        buffer[..1000].Should().OnlyContain(x => x == 1);
        buffer[1000..2000].Should().OnlyContain(x => x == 2);
        (await _store.ReadAsync(TaskId.Parse(new string('a', 64)), 0, buffer, CancellationToken.None)).Should().Be(0);
    }

    [Fact]
    public async Task WriteAsync_DataFileDeletedSinceItWasCreated_ThrowsAndDoesNotCreateItAgain()
    {
        _store.Truncate(Id, 0);
        await _store.WriteAsync(Id, 0, new byte[] { 1, 2, 3 }, CancellationToken.None);
        File.Delete(_store.DataPath(Id));

        var write = () => _store.WriteAsync(Id, 4 * 1024 * 1024, new byte[] { 4, 5, 6 }, CancellationToken.None).AsTask();

        var thrown = (await write.Should().ThrowAsync<PieceFileMissingException>()).Which;
        thrown.TaskId.Should().Be(Id);
        thrown.Message.Should().Contain("disappeared while the CDN was writing it");
        _store.Exists(Id).Should().BeFalse("a write never creates the data file, which would leave holes where earlier pieces were");
    }

    [Fact]
    public async Task WriteAsync_ShardDirectoryDeleted_ThrowsAndDoesNotCreateIt()
    {
        _store.Truncate(Id, 0);
        Directory.Delete(Path.GetDirectoryName(_store.DataPath(Id))!, recursive: true);

        var write = () => _store.WriteAsync(Id, 0, new byte[] { 1 }, CancellationToken.None).AsTask();

        await write.Should().ThrowAsync<PieceFileMissingException>();
        Directory.Exists(Path.GetDirectoryName(_store.DataPath(Id))).Should().BeFalse();
    }

    [Fact]
    public async Task WriteTextAsync_ReplacesAtomicallyAndLeavesNoTempFiles()
    {
        await _store.WriteTextAsync(Id, ".meta", "one", CancellationToken.None);
        await _store.WriteTextAsync(Id, ".meta", "two", CancellationToken.None);

        (await _store.ReadTextAsync(Id, ".meta", CancellationToken.None)).Should().Be("two");
        (await _store.ReadTextAsync(Id, ".md5", CancellationToken.None)).Should().BeNull();
        Directory.GetFiles(Path.GetDirectoryName(_store.DataPath(Id))!).Select(Path.GetFileName).Should().Equal(Id.Value + ".meta");
        await FluentActions.Awaiting(() => _store.WriteTextAsync(Id, "/../../x", "bad", CancellationToken.None)).Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task EnumerateTasks_FindsOnlyValidTaskFilesAndDeleteRemovesAll()
    {
        _store.Truncate(Id, 0);
        await _store.WriteAsync(Id, 0, new byte[] { 1 }, CancellationToken.None);
        await _store.WriteTextAsync(Id, ".md5", "x", CancellationToken.None);
        var other = TaskId.Parse(new string('b', 64));
        await _store.WriteTextAsync(other, ".meta", "{}", CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(_home.Path, "repo", "download", "6da", "junk.txt"), "x");
        Directory.CreateDirectory(Path.Combine(_home.Path, "repo", "download", "ccc"));
        await File.WriteAllTextAsync(Path.Combine(_home.Path, "repo", "download", "ccc", new string('d', 64)), "wrong shard");

        _store.EnumerateTasks().Should().BeEquivalentTo([Id, other]);

        _store.Delete(Id);
        _store.Exists(Id).Should().BeFalse();
        (await _store.ReadTextAsync(Id, ".md5", CancellationToken.None)).Should().BeNull();
        _store.EnumerateTasks().Should().Equal(other);
        _store.AvailableFreeSpace().Should().BePositive();
    }
}
