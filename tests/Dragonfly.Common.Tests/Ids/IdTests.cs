using Dragonfly.Common.Ids;

namespace Dragonfly.Common.Tests.Ids;

public class IdTests
{
    private const string Hex = "6dafc821ffe8bf28cc58d1507e9bf0a52893bbf07ccd288458225f43246f38f9";

    [Fact]
    public void TaskId_Valid_ParsesAndShards()
    {
        var id = TaskId.Parse(Hex.ToUpperInvariant());
        id.Value.Should().Be(Hex);
        id.Shard.Should().Be("6da");
    }

    [Theory]
    [InlineData("nonexistent")]
    [InlineData("../../../../etc/passwd")]
    [InlineData("6dafc821ffe8bf28cc58d1507e9bf0a52893bbf07ccd288458225f43246f38f")]
    [InlineData("6dafc821ffe8bf28cc58d1507e9bf0a52893bbf07ccd288458225f43246f38fz")]
    [InlineData("")]
    [InlineData(null)]
    public void TaskId_Invalid_IsRejected(string? text)
    {
        TaskId.TryParse(text, out _).Should().BeFalse();
    }

    [Fact]
    public void Cid_ForSupernode_HasOriginalShape()
    {
        var cid = Cid.ForSupernode("127.0.0.1", TaskId.Parse(Hex));
        cid.Value.Should().Be($"cdnnode:127.0.0.1~{Hex}");
        cid.IsSupernode.Should().BeTrue();
        Cid.TryParse(cid.Value, out var parsed).Should().BeTrue();
        parsed.Should().Be(cid);
    }

    [Fact]
    public void Cid_Sign_IsPidDashSecondsWithThreeDecimals()
    {
        var sign = Cid.Sign(76, DateTimeOffset.FromUnixTimeMilliseconds(1795238008142));
        sign.Should().Be("76-1795238008.142");
        Cid.ForClient("127.0.0.1", sign).Value.Should().Be("127.0.0.1-76-1795238008.142");
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("a b")]
    [InlineData("a\\b")]
    [InlineData("")]
    public void Cid_UnsafeText_IsRejected(string text)
    {
        Cid.TryParse(text, out _).Should().BeFalse();
        PeerId.TryParse(text, out _).Should().BeFalse();
    }

    [Fact]
    public void PeerId_Create_HasHostIpNanos()
    {
        PeerId.Create("host1", "10.0.0.1", 1795238008142000000).Value.Should().Be("host1-10.0.0.1-1795238008142000000");
    }

    [Fact]
    public void DfgetTaskKey_ToString_IsCidAtTaskId()
    {
        var key = new DfgetTaskKey(Cid.Parse("c1"), TaskId.Parse(Hex));
        key.ToString().Should().Be($"c1@{Hex}");
    }
}
