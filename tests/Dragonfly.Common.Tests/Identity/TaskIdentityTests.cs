using Dragonfly.Common.Identity;

namespace Dragonfly.Common.Tests.Identity;

public class TaskIdentityTests
{
    [Fact]
    public void Key_IsTheOriginal32ByteConstant()
    {
        TaskIdentity.Key.Should().HaveLength(32);
        Convert.ToHexStringLower(System.Text.Encoding.ASCII.GetBytes(TaskIdentity.Key))
            .Should().Be("3e492470672d7e41537e7350277271755f604f68266c7a23395d223d3b6e4525");
    }

    [Fact]
    public void ComputeTaskId_ProtocolTestVector_Matches()
    {
        TaskIdentity.ComputeTaskId("http://127.0.0.1:8000/test.bin", null, null).Value
            .Should().Be("6dafc821ffe8bf28cc58d1507e9bf0a52893bbf07ccd288458225f43246f38f9");
    }

    [Fact]
    public void ComputeTaskId_Md5WinsOverIdentifier()
    {
        var withBoth = TaskIdentity.ComputeTaskId("http://h/f", "abc", "ident");
        var md5Only = TaskIdentity.ComputeTaskId("http://h/f", "abc", null);
        var identOnly = TaskIdentity.ComputeTaskId("http://h/f", null, "ident");

        withBoth.Should().Be(md5Only);
        identOnly.Should().NotBe(md5Only);
    }

    [Fact]
    public void ComputeTaskId_RangeHeaderParticipates()
    {
        TaskIdentity.ComputeTaskId("http://h/f", null, null, "bytes=0-9")
            .Should().NotBe(TaskIdentity.ComputeTaskId("http://h/f", null, null));
    }

    [Theory]
    [InlineData("http://h/small.bin?sign=abc&x=1", "sign", "http://h/small.bin?x=1")]
    [InlineData("http://h/f?sign=abc", "sign", "http://h/f")]
    [InlineData("http://h/f?a=1&b=2&c=3", "a&c", "http://h/f?b=2")]
    [InlineData("http://h/f?a&b=2", "a", "http://h/f?b=2")]
    [InlineData("http://h/f?ab=1&a=2", "a", "http://h/f?ab=1")]
    [InlineData("http://h/f", "a", "http://h/f")]
    [InlineData("http://h/f?a=1", "", "http://h/f?a=1")]
    public void FilterUrl_DropsFilteredKeysOnly(string raw, string filter, string expected)
    {
        TaskIdentity.FilterUrl(raw, TaskIdentity.ParseFilter(filter)).Should().Be(expected);
    }

    [Fact]
    public void ComputeTaskId_ScenarioFourFilteredUrlWithMd5()
    {
        var taskUrl = TaskIdentity.FilterUrl("http://127.0.0.1:8000/small.bin?sign=abc&x=1", ["sign"]);
        var md5 = "5d41402abc4b2a76b9719d911017c592";
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(TaskIdentity.Key + "http://127.0.0.1:8000/small.bin?x=1" + md5 + TaskIdentity.Key)));

        TaskIdentity.ComputeTaskId(taskUrl, md5, null).Value.Should().Be(expected);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8000/x", true)]
    [InlineData("https://example.com/a?b=c", true)]
    [InlineData("notaurl", false)]
    [InlineData("ftp://h/f", false)]
    [InlineData("file:///etc/passwd", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsHttpUrl_AcceptsOnlyHttpAndHttps(string? url, bool expected)
    {
        TaskIdentity.IsHttpUrl(url).Should().Be(expected);
    }
}
