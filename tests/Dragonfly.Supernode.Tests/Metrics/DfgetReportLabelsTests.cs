using Dragonfly.Supernode.Metrics;

namespace Dragonfly.Supernode.Tests.Metrics;

public sealed class DfgetReportLabelsTests
{
    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::FFFF:10.0.0.1", "::ffff:10.0.0.1")]
    [InlineData("", "")]
    [InlineData(null, "")]
    [InlineData("999.1.1.1", DfgetReportLabels.Invalid)]
    [InlineData("host.example", DfgetReportLabels.Invalid)]
    [InlineData("127.0.0.1\"} 1\nfake_metric{a=\"", DfgetReportLabels.Invalid)]
    public void Peer_KeepsAddressesOnly(string? ip, string expected) => new DfgetReportLabels().Peer(ip).Should().Be(expected);

    [Fact]
    public void Peer_AddressesUpToTheCap_ThenOther()
    {
        var labels = new DfgetReportLabels();
        for (var i = 0; i < DfgetReportLabels.MaxPeers; i++)
        {
            labels.Peer($"10.{i / 256}.{i % 256}.1").Should().NotBe(DfgetReportLabels.Other);
        }

        labels.Peer("10.0.0.1").Should().Be("10.0.0.1", "an address admitted before the cap keeps its label");
        labels.Peer("192.168.0.1").Should().Be(DfgetReportLabels.Other, $"only the first {DfgetReportLabels.MaxPeers} distinct addresses get their own series");
        labels.Peer("not an address").Should().Be(DfgetReportLabels.Invalid);
    }

    [Fact]
    public async Task CallSystem_RacingNewTags_NeverAdmitMoreThanTheCap()
    {
        var labels = new DfgetReportLabels();

        var admitted = await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
            Enumerable.Range(0, 100).Select(i => labels.CallSystem($"t{t}-{i}")).Count(l => l != DfgetReportLabels.Other))));

        admitted.Sum().Should().Be(DfgetReportLabels.MaxCallSystems);
    }

    [Theory]
    [InlineData("3", "3")]
    [InlineData("1003", "1003")]
    [InlineData("", "")]
    [InlineData(null, "")]
    [InlineData("-1", DfgetReportLabels.Other)]
    [InlineData("12345", DfgetReportLabels.Other)]
    [InlineData("md5 mismatch", DfgetReportLabels.Other)]
    public void Reason_KeepsShortCodesOnly(string? reason, string expected) => DfgetReportLabels.Reason(reason).Should().Be(expected);

    [Fact]
    public void CallSystem_TokensUpToTheCap_ThenOther()
    {
        var labels = new DfgetReportLabels();

        labels.CallSystem("ci").Should().Be("ci");
        labels.CallSystem("team-a/build_1.2:x").Should().Be("team-a/build_1.2:x");
        labels.CallSystem(null).Should().BeEmpty();
        labels.CallSystem("has space").Should().Be(DfgetReportLabels.Other);
        labels.CallSystem(new string('a', DfgetReportLabels.MaxCallSystemLength + 1)).Should().Be(DfgetReportLabels.Other);
        for (var i = 0; i < DfgetReportLabels.MaxCallSystems * 2; i++)
        {
            labels.CallSystem($"tag{i}");
        }

        labels.CallSystem("tag0").Should().Be("tag0", "a tag admitted before the cap keeps its label");
        labels.CallSystem("never-seen").Should().Be(DfgetReportLabels.Other, $"only the first {DfgetReportLabels.MaxCallSystems} distinct tags get their own series");
    }
}
