using Dragonfly.Common.Pieces;
using Dragonfly.Dfget.Uploader;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Dfget.Tests.Uploader;

/// <summary>
/// Hostile piece-request headers and task-file names for the uploader's rules: false with an error, or a plan that reads
/// only inside the file and sends a body of exactly the length it declares; a name that passes never leaves the data
/// directory.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class PieceRequestFuzzTests
{
    private static readonly string[] NameTokens =
    [
        "a", ".", "..", "-", "bin", ".service", "/", "\\", "%2f", "%2F", "%5c", "%2e", "\0", "\u00e9", "\ud800", "~", " ", "1795238008.142",
    ];

    [Fact]
    public Task TryParseAndTryPlan_HostileHeaders_FalseOrAPlanInsideTheFile() => Fuzzer.RunAsync(20_000, c =>
    {
        var pieceSize = c.Pick("4194304", "1048576", "5", "6", "16777220", "16777221", "0", "-1", FuzzText.Number(c.Random));
        var pieceNum = c.Pick("0", "1", "2", "-1", "2147483647", FuzzText.Number(c.Random));
        var range = c.Random.Next(3) switch
        {
            0 => c.Pick(HttpRequestFuzz.Ranges),
            1 => $"bytes={c.Random.NextInt64(-1, 20_000_000)}-{c.Random.NextInt64(-1, 20_000_000)}",
            _ => FuzzText.Hostile(c.Random, ["bytes=0-4194303", "bytes=4194304-8388607"], ["bytes=", "-", "0", "4194303", "9223372036854775807", " ", ","]),
        };
        var source = c.Pick<string?>(null, "source", "SOURCE", "supernode", "");
        var fileLength = c.Pick(0L, 1L, 4194299L, 5_000_000L, c.Random.NextInt64(0, 40_000_000));
        c.SetInput($"Range: {range} pieceNum: {pieceNum} pieceSize: {pieceSize} cdnSource: {source} (file {fileLength})");

        if (!PieceRequest.TryParse(range, pieceNum, pieceSize, source, out var request, out var error))
        {
            error.Should().NotBeNullOrEmpty();
            return;
        }

        request.PieceSize.Should().BeInRange(PieceFrame.Overhead + 1, PieceRequest.MaxPieceSize);
        if (!request.TryPlan(fileLength, out var offset, out var contentLength))
        {
            return;
        }

        offset.Should().BeGreaterThanOrEqualTo(0);
        contentLength.Should().BeGreaterThanOrEqualTo(0);
        (offset + contentLength).Should().BeLessThanOrEqualTo(fileLength, "a piece is read only from the file");
        if (!request.SourcePattern)
        {
            contentLength.Should().BeLessThanOrEqualTo(request.PieceSize - PieceFrame.Overhead);
        }

        request.BodyLength(contentLength).Should().BeLessThanOrEqualTo(request.Range.Length, "the body is never longer than the range asked for");
    });

    [Fact]
    public Task TryGetServicePath_HostileNames_NullOrAFileDirectlyInTheDataDir() => Fuzzer.RunAsync(20_000, c =>
    {
        var dataDir = c.Pick("/tmp/dragonfly-fuzz/data", "/tmp/dragonfly-fuzz/data/", "/");
        var name = FuzzText.Hostile(c.Random, ["file.bin-1234-1795238008.142", "a-b"], NameTokens, maxLength: 300);
        c.SetInput(name);

        var valid = TaskFileNames.IsValid(name);
        TaskFileNames.TryGetServicePath(dataDir, name, out var path).Should().Be(valid, "a valid name always has its file in the data dir");
        if (valid)
        {
            Path.GetDirectoryName(path).Should().Be(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir)));
            Path.GetFileName(path).Should().Be(name + TaskFileNames.ServiceSuffix);
            name.Should().NotContainAny("/", "\\", "..", "\0");
        }
    });
}
