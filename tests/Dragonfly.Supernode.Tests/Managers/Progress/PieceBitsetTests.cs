using Dragonfly.Supernode.Managers.Progress;

namespace Dragonfly.Supernode.Tests.Managers.Progress;

public class PieceBitsetTests
{
    [Fact]
    public void Add_BeyondCapacity_GrowsAndCounts()
    {
        var set = new PieceBitset(1);

        set.Add(0).Should().BeTrue();
        set.Add(1000).Should().BeTrue();
        set.Add(1000).Should().BeFalse();

        set.Count.Should().Be(2);
        set.Contains(1000).Should().BeTrue();
        set.Contains(999).Should().BeFalse();
        set.ToArray().Should().Equal(0, 1000);
    }

    [Fact]
    public void Remove_PresentAndAbsent_UpdatesCount()
    {
        var set = new PieceBitset();
        set.Add(63);
        set.Add(64);

        set.Remove(63).Should().BeTrue();
        set.Remove(63).Should().BeFalse();
        set.Remove(5000).Should().BeFalse();

        set.Count.Should().Be(1);
        set.ToArray().Should().Equal(64);
    }

    [Fact]
    public void Contains_Negative_IsFalse() => new PieceBitset().Contains(-1).Should().BeFalse();

    [Fact]
    public void Clear_EmptiesSet()
    {
        var set = new PieceBitset();
        set.Add(3);
        set.Clear();

        set.Count.Should().Be(0);
        set.Contains(3).Should().BeFalse();
    }
}
