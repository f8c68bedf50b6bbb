using Dragonfly.Dfget.Downloading;

namespace Dragonfly.Dfget.Tests.Downloading;

public sealed class ByteRangeSetTests
{
    [Fact]
    public void Add_DisjointRanges_CoversTheirSum()
    {
        var set = new ByteRangeSet();

        set.Add(0, 10).Should().Be((10L, 10L));
        set.Add(20, 5).Should().Be((5L, 15L));
        set.Covered.Should().Be(15);
    }

    [Fact]
    public void Add_RangeAlreadyCovered_AddsNothing()
    {
        var set = new ByteRangeSet();
        set.Add(0, 100);

        set.Add(10, 50).Should().Be((0L, 100L));
        set.Add(0, 100).Should().Be((0L, 100L));
    }

    [Fact]
    public void Add_BiggerPiecesOverSmallerOnes_CountsOnlyTheNewBytes()
    {
        // 1 MiB pieces 0 and 1 on disk, then the 2 MiB pieces 0 and 1 of another supernode over a 3 MiB + 123 file.
        const long mib = 1024 * 1024;
        var set = new ByteRangeSet();
        set.Add(0, mib);
        set.Add(mib, mib);

        set.Add(0, 2 * mib).Should().Be((0L, 2 * mib));
        set.Add(2 * mib, mib + 123).Should().Be((mib + 123, (3 * mib) + 123));
    }

    [Fact]
    public void Add_RangeBridgingSeveral_MergesThemAndCountsTheGaps()
    {
        var set = new ByteRangeSet();
        set.Add(10, 10);
        set.Add(30, 10);
        set.Add(50, 10);

        set.Add(0, 70).Should().Be((40L, 70L));
        set.Add(69, 2).Should().Be((1L, 71L));
    }

    [Fact]
    public void Add_TouchingAndPartlyOverlapping_CountsEachByteOnce()
    {
        var set = new ByteRangeSet();
        set.Add(10, 10);

        set.Add(20, 5).Should().Be((5L, 15L), "touching ranges");
        set.Add(5, 10).Should().Be((5L, 20L), "overlapping the start");
        set.Add(0, 0).Should().Be((0L, 20L));
    }

    [Fact]
    public void Add_ConcurrentlyOverTheSameBytes_NeverPassesTheirUnion()
    {
        var set = new ByteRangeSet();

        Parallel.For(0, 1000, i => set.Add(i % 100 * 10, 20));

        set.Covered.Should().Be(1010);
    }
}
