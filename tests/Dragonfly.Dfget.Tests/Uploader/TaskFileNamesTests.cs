using Dragonfly.Dfget.Uploader;

namespace Dragonfly.Dfget.Tests.Uploader;

public sealed class TaskFileNamesTests
{
    [Theory]
    [InlineData("test.bin-4242-1795238008.142")]
    [InlineData("file?x=1&y=2-1-1.000")]
    [InlineData("a")]
    public void IsValid_PlainNames_True(string name) => TaskFileNames.IsValid(name).Should().BeTrue();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("..%2F..%2Fetc%2Fpasswd")]
    [InlineData("x%2fy")]
    [InlineData("x%5Cy")]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    public void IsValid_TraversalOrControl_False(string? name) => TaskFileNames.IsValid(name).Should().BeFalse();

    [Fact]
    public void IsValid_TooLong_False() => TaskFileNames.IsValid(new string('a', 241)).Should().BeFalse();

    [Fact]
    public void TryGetServicePath_ValidName_ResolvesInsideDataDir()
    {
        TaskFileNames.TryGetServicePath("/tmp/data", "x", out var path).Should().BeTrue();
        path.Should().Be("/tmp/data/x.service");
    }
}
