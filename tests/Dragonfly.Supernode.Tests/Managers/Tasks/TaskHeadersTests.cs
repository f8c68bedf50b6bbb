using Dragonfly.Common.Errors;
using Dragonfly.Supernode.Managers.Tasks;

namespace Dragonfly.Supernode.Tests.Managers.Tasks;

public class TaskHeadersTests
{
    [Fact]
    public void Parse_SplitsOnFirstColonAndTrims()
    {
        var headers = TaskHeaders.Parse(["Authorization:  Bearer a:b ", "X-A: 1"]);

        headers.Should().BeEquivalentTo(new Dictionary<string, string> { ["Authorization"] = "Bearer a:b", ["X-A"] = "1" });
    }

    [Fact]
    public void Parse_DropsEmptyValuesAndLinesWithoutColon()
    {
        TaskHeaders.Parse(["X-Empty:  ", "novalue", ": v", ""]).Should().BeEmpty();
    }

    [Fact]
    public void Parse_DuplicateKeys_JoinedWithComma()
    {
        TaskHeaders.Parse(["Accept: a", "Accept: b"])["Accept"].Should().Be("a,b");
    }

    [Fact]
    public void Parse_KeysDifferingOnlyInCase_AreOneHeader()
    {
        var headers = TaskHeaders.Parse(["Range: bytes=0-9", "range: bytes=20-29"]);

        headers.Should().ContainSingle();
        headers["RANGE"].Should().Be("bytes=0-9,bytes=20-29");
        TaskHeaders.FromMap(new Dictionary<string, string> { ["range"] = "bytes=0-9" })["Range"].Should().Be("bytes=0-9");
    }

    [Fact]
    public void ValueOf_AnySpelling_FoundAndJoinedInKeyOrder()
    {
        TaskHeaders.ValueOf(new Dictionary<string, string> { ["range"] = "bytes=0-9" }, "Range").Should().Be("bytes=0-9");
        TaskHeaders.ValueOf(new Dictionary<string, string> { ["range"] = "b", ["Range"] = "a" }, "Range").Should().Be("a,b");
        TaskHeaders.ValueOf(new Dictionary<string, string> { ["X-A"] = "1" }, "Range").Should().BeNull();
    }

    [Fact]
    public void Parse_Null_IsEmpty() => TaskHeaders.Parse(null).Should().BeEmpty();

    [Theory]
    [InlineData("X-A: a\r\nInjected: 1")]
    [InlineData("X A: 1")]
    public void Parse_IllegalCharacters_Throws(string line)
    {
        var act = () => TaskHeaders.Parse([line]);

        act.Should().Throw<DragonflyException>().Which.Code.Should().Be(ErrorCode.InvalidValue);
    }

    [Fact]
    public void FromMap_TrimsAndDropsEmpty()
    {
        TaskHeaders.FromMap(new Dictionary<string, string> { [" K "] = " v ", ["E"] = "" }).Should()
            .BeEquivalentTo(new Dictionary<string, string> { ["K"] = "v" });
    }
}
