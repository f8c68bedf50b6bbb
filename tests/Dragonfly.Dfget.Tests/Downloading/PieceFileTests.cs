using Dragonfly.Dfget.Downloading;

namespace Dragonfly.Dfget.Tests.Downloading;

public sealed class PieceFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dragonfly-piecefile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Create_PathIsASymlinkToAnotherFile_WritesANewFileAndLeavesTheOtherAlone()
    {
        var outside = Path.Combine(_dir, "outside.txt");
        await File.WriteAllTextAsync(outside, "keep me");
        var service = Path.Combine(_dir, "task.service");
        File.CreateSymbolicLink(service, outside);

        using (var file = PieceFile.Create(service))
        {
            await file.WriteAsync(0, "piece"u8.ToArray(), CancellationToken.None);
        }

        (await File.ReadAllTextAsync(outside)).Should().Be("keep me");
        new FileInfo(service).LinkTarget.Should().BeNull();
        (await File.ReadAllTextAsync(service)).Should().Be("piece");
    }

    [Fact]
    public async Task Create_LeftoverFile_StartsEmpty()
    {
        var service = Path.Combine(_dir, "task.service");
        await File.WriteAllTextAsync(service, "an earlier run's bytes");

        using var file = PieceFile.Create(service);

        file.Length.Should().Be(0);
    }
}
