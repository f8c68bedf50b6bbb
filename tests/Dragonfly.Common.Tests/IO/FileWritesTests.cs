using Dragonfly.Common.IO;

namespace Dragonfly.Common.Tests.IO;

public sealed class FileWritesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("filewrites-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(FileWrites.MaxSliceBytes)]
    [InlineData(FileWrites.MaxSliceBytes + 1)]
    [InlineData(4 * FileWrites.MaxSliceBytes)]
    [InlineData((4 * 1024 * 1024) + 5)]
    public async Task WriteSlices_NeverHandsOnMoreThanOneMiB_AndCoversTheDataInOrder(int length)
    {
        var data = new byte[length];
        Random.Shared.NextBytes(data);
        var slices = new List<(long Offset, byte[] Bytes)>();

        await FileWrites.WriteSlicesAsync(data, 1000, (slice, at, _) =>
        {
            slices.Add((at, slice.ToArray()));
            return ValueTask.CompletedTask;
        }, CancellationToken.None);

        slices.Should().NotContain(s => s.Bytes.Length == 0 || s.Bytes.Length > FileWrites.MaxSliceBytes);
        slices.Count.Should().Be((length + FileWrites.MaxSliceBytes - 1) / FileWrites.MaxSliceBytes);
        var expectedOffset = 1000L;
        foreach (var (offset, bytes) in slices)
        {
            offset.Should().Be(expectedOffset);
            expectedOffset += bytes.Length;
        }

        slices.SelectMany(s => s.Bytes).ToArray().Should().Equal(data);
    }

    [Fact]
    public async Task WriteAsync_APieceLargerThanASlice_LandsWholeAtItsOffset()
    {
        var path = Path.Combine(_dir, "piece-file");
        var piece = new byte[(4 * 1024 * 1024) + 5];
        Random.Shared.NextBytes(piece);
        const long offset = (4 * 1024 * 1024) + 5;

        using (var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None, FileOptions.Asynchronous))
        {
            await FileWrites.WriteAsync(handle, piece, offset, CancellationToken.None);
        }

        var written = await File.ReadAllBytesAsync(path);
        written.Length.Should().Be((int)offset + piece.Length);
        written.AsSpan(0, (int)offset).ToArray().Should().OnlyContain(b => b == 0);
        written.AsSpan((int)offset).ToArray().Should().Equal(piece);
    }

    [Fact]
    public async Task WriteSlices_NegativeOffset_IsRejected()
    {
        var act = async () => await FileWrites.WriteSlicesAsync(new byte[10], -1, (_, _, _) => ValueTask.CompletedTask, CancellationToken.None);
        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
    }
}
