using Dragonfly.Supernode.Metrics;
using Dragonfly.TestCommon;

namespace Dragonfly.Supernode.Tests.Metrics;

public sealed class DfgetReportLedgerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryRecordFirst_SameDownloadTwice_OnlyFirstCounts()
    {
        var ledger = new DfgetReportLedger(_time);

        ledger.TryRecordFirst("task", "cid").Should().BeTrue();
        ledger.TryRecordFirst("task", "cid").Should().BeFalse();
        ledger.TryRecordFirst("task", "other-cid").Should().BeTrue();
        ledger.TryRecordFirst("other-task", "cid").Should().BeTrue();
    }

    [Fact]
    public void TryRecordFirst_AfterTheWindow_CountsAgain()
    {
        var ledger = new DfgetReportLedger(_time);
        ledger.TryRecordFirst("task", "cid");

        _time.Advance(DfgetReportLedger.Window - TimeSpan.FromSeconds(1));
        ledger.TryRecordFirst("task", "cid").Should().BeFalse();
        _time.Advance(TimeSpan.FromSeconds(2));
        ledger.TryRecordFirst("task", "cid").Should().BeTrue();
    }

    [Fact]
    public void TryRecordFirst_IdLongerThanAnyReal_CountsButIsNotRemembered()
    {
        var ledger = new DfgetReportLedger(_time);
        var huge = new string('a', DfgetReportLedger.MaxIdLength + 1);

        ledger.TryRecordFirst(huge, "cid").Should().BeTrue();
        ledger.TryRecordFirst(huge, "cid").Should().BeTrue("a key that long is never stored, so it cannot be matched");
        ledger.TryRecordFirst("task", huge).Should().BeTrue();
        ledger.TryRecordFirst(new string('a', DfgetReportLedger.MaxIdLength), "cid").Should().BeTrue();
        ledger.TryRecordFirst(new string('a', DfgetReportLedger.MaxIdLength), "cid").Should().BeFalse("the longest real-looking id is remembered");
    }

    [Theory]
    [InlineData(null, "cid")]
    [InlineData("task", null)]
    [InlineData("", "")]
    public void TryRecordFirst_WithoutBothIds_AlwaysCounts(string? taskId, string? cid)
    {
        var ledger = new DfgetReportLedger(_time);

        ledger.TryRecordFirst(taskId, cid).Should().BeTrue();
        ledger.TryRecordFirst(taskId, cid).Should().BeTrue();
    }

    [Fact]
    public void TryRecordFirst_PastCapacity_ForgetsTheOldestFirst()
    {
        var ledger = new DfgetReportLedger(_time);
        for (var i = 0; i < DfgetReportLedger.Capacity; i++)
        {
            ledger.TryRecordFirst("task", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        ledger.TryRecordFirst("task", "new").Should().BeTrue();

        ledger.TryRecordFirst("task", "0").Should().BeTrue("the oldest was forgotten to make room");
        ledger.TryRecordFirst("task", "new").Should().BeFalse();
    }
}
