using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Storage;
using Dragonfly.TestCommon;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dragonfly.Supernode.Tests.Cdn;

public sealed class DiskGcServiceTests : IDisposable
{
    private const long GB = 1024L * 1024 * 1024;
    private readonly TempDirectory _home = new("cdn-gc-");
    private readonly CdnTestHarness _cdn;
    private readonly HashSet<TaskId> _inMemory = [];
    private long _free = 500 * GB;
    private Action<TaskId>? _onMetadataRead;

    public DiskGcServiceTests() => _cdn = new CdnTestHarness(_home.Path, new FakeOriginClient(), wrapStore: s => new FreeSpaceStore(s, () => _free, id => _onMetadataRead?.Invoke(id)));

    public void Dispose()
    {
        _cdn.Dispose();
        _home.Dispose();
    }

    [Fact]
    public async Task RunOnceAsync_PlentyOfSpace_RemovesNothing()
    {
        var ids = await CreateTasksAsync(3);

        (await Gc().RunOnceAsync(CancellationToken.None)).Should().BeEmpty();
        ids.Should().OnlyContain(id => _cdn.Store.Exists(id));
    }

    [Fact]
    public async Task RunOnceAsync_BelowFullThreshold_RemovesEveryTaskNotInMemory()
    {
        var ids = await CreateTasksAsync(3);
        _inMemory.Add(ids[1]);
        _free = 4 * GB;

        var removed = await Gc().RunOnceAsync(CancellationToken.None);

        removed.Should().BeEquivalentTo([ids[0], ids[2]]);
        _cdn.Store.Exists(ids[1]).Should().BeTrue();
        _cdn.Store.Exists(ids[0]).Should().BeFalse();
        File.Exists(_cdn.Path(ids[0], ".meta")).Should().BeFalse();
    }

    [Fact]
    public async Task RunOnceAsync_BelowYoungThreshold_RemovesTheLongestIdleShare()
    {
        var ids = await CreateTasksAsync(3);
        _free = 50 * GB;

        var removed = await Gc().RunOnceAsync(CancellationToken.None);

        removed.Should().Equal(ids[0]);
        _cdn.Store.Exists(ids[1]).Should().BeTrue();
    }

    [Fact]
    public async Task RunOnceAsync_VictimBackInMemoryWhileChoosing_KeepsItsFiles()
    {
        var ids = await CreateTasksAsync(3);
        _free = 50 * GB;

        // The longest idle task is registered again while the pass reads metadata (an await).
        _onMetadataRead = id => _inMemory.Add(ids[0]);
        var removed = await Gc().RunOnceAsync(CancellationToken.None);

        removed.Should().BeEmpty();
        ids.Should().OnlyContain(id => _cdn.Store.Exists(id));
    }

    private DiskGcService Gc() => new(
        Options.Create(_cdn.Options), _cdn.Store, new SetPresence(_inMemory), _cdn.Metrics, _cdn.Clock, NullLogger<DiskGcService>.Instance);

    /// <summary>Tasks whose access times are 3, 2 and 1 hours ago (so index 0 is the longest idle).</summary>
    private async Task<List<TaskId>> CreateTasksAsync(int count)
    {
        var ids = new List<TaskId>();
        var meta = new FileMetadataStore(_cdn.Store);
        for (var i = 0; i < count; i++)
        {
            var id = TaskId.Parse(new string((char)('a' + i), 64));
            _cdn.Store.Truncate(id, 0);
            await _cdn.Store.WriteAsync(id, 0, new byte[] { 1, 2, 3 }, CancellationToken.None);
            await meta.WriteAsync(id, new CdnFileMetadata
            {
                TaskId = id.Value,
                AccessTime = _cdn.Clock.GetUtcNow().AddHours(i - count).ToUnixTimeMilliseconds(),
            }, CancellationToken.None);
            ids.Add(id);
        }

        return ids;
    }

    private sealed class SetPresence(HashSet<TaskId> set) : ICdnTaskPresence
    {
        public bool IsInMemory(TaskId taskId) => set.Contains(taskId);
    }

    private sealed class FreeSpaceStore(IPieceStore inner, Func<long> free, Action<TaskId> onReadText) : IPieceStore
    {
        public string DataPath(TaskId taskId) => inner.DataPath(taskId);

        public ValueTask WriteAsync(TaskId taskId, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => inner.WriteAsync(taskId, offset, data, cancellationToken);

        public ValueTask<int> ReadAsync(TaskId taskId, long offset, Memory<byte> buffer, CancellationToken cancellationToken) => inner.ReadAsync(taskId, offset, buffer, cancellationToken);

        public Microsoft.Win32.SafeHandles.SafeFileHandle? OpenRead(TaskId taskId) => inner.OpenRead(taskId);

        public long Length(TaskId taskId) => inner.Length(taskId);

        public bool Exists(TaskId taskId) => inner.Exists(taskId);

        public void Truncate(TaskId taskId, long length) => inner.Truncate(taskId, length);

        public Task<string?> ReadTextAsync(TaskId taskId, string suffix, CancellationToken cancellationToken)
        {
            onReadText(taskId);
            return inner.ReadTextAsync(taskId, suffix, cancellationToken);
        }

        public Task WriteTextAsync(TaskId taskId, string suffix, string content, CancellationToken cancellationToken) => inner.WriteTextAsync(taskId, suffix, content, cancellationToken);

        public void DeleteSide(TaskId taskId, string suffix) => inner.DeleteSide(taskId, suffix);

        public void Delete(TaskId taskId) => inner.Delete(taskId);

        public IEnumerable<TaskId> EnumerateTasks() => inner.EnumerateTasks();

        public long AvailableFreeSpace() => free();
    }
}
