using Dragonfly.Supernode.Metrics;

namespace Dragonfly.Supernode.Tests.Metrics;

public sealed class SupernodeApiMetricsTests
{
    [Theory]
    [InlineData(double.PositiveInfinity, null)]
    [InlineData(double.NaN, null)]
    [InlineData(-0.5, null)]
    [InlineData(1e12, null)]
    [InlineData(1.5, long.MaxValue)]
    [InlineData(1.5, -2L)]
    [InlineData(1.5, (1L << 50) + 1)]
    public void DfgetReportProblem_NonFiniteNegativeOrAbsurd_Refused(double duration, long? fileLength)
    {
        SupernodeApiMetrics.DfgetReportProblem(duration, fileLength).Should().NotBeNull();
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(0.0, 0L)]
    [InlineData(1.5, 10L)]
    [InlineData(3600.0, -1L)]
    [InlineData(86400.0, 1L << 50)]
    public void DfgetReportProblem_PlausibleOrUnknown_Accepted(double? duration, long? fileLength)
    {
        SupernodeApiMetrics.DfgetReportProblem(duration, fileLength).Should().BeNull();
    }
}
