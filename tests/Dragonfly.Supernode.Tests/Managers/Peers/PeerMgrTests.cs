using Dragonfly.Common.Errors;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Tests.Managers.Support;

namespace Dragonfly.Supernode.Tests.Managers.Peers;

public sealed class PeerMgrTests : IDisposable
{
    private readonly Tracker _tracker = new();

    private PeerMgr Peers => _tracker.Peers;

    public void Dispose() => _tracker.Dispose();

    [Fact]
    public void Register_Valid_IdIsHostIpUnixNanos()
    {
        var peer = Peers.Register(new PeerRegistration("192.168.0.5", "node-a", 15001, "1.0.6"));

        var nanos = (_tracker.Time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
        peer.Id.Value.Should().Be($"node-a-192.168.0.5-{nanos}");
        peer.Created.Should().Be(_tracker.Time.GetUtcNow());
        peer.Pattern.Should().Be(PeerPattern.P2P);
        Peers.Get(peer.Id).Should().Be(peer);
    }

    [Fact]
    public void Register_SameTick_GivesDistinctIds()
    {
        var a = Peers.Register(new PeerRegistration("192.168.0.5", "n", 15001, null));
        var b = Peers.Register(new PeerRegistration("192.168.0.5", "n", 15001, null));

        a.Id.Should().NotBe(b.Id);
        Peers.Count.Should().Be(2);
    }

    [Fact]
    public void Register_PortZero_IsCdnPattern() =>
        Peers.Register(new PeerRegistration("192.168.0.5", "n", 0, null)).Pattern.Should().Be(PeerPattern.Cdn);

    [Theory]
    [InlineData("::1", "n", 15001)]
    [InlineData("999.1.1.1", "n", 15001)]
    [InlineData("1.2.3", "n", 15001)]
    [InlineData("192.168.0.1", "", 15001)]
    [InlineData("192.168.0.1", "bad/host", 15001)]
    [InlineData("192.168.0.1", "n", 14999)]
    [InlineData("192.168.0.1", "n", 65001)]
    public void Register_Invalid_ThrowsInvalidValue(string ip, string host, int port)
    {
        var act = () => Peers.Register(new PeerRegistration(ip, host, port, null));

        act.Should().Throw<DragonflyException>().Which.Code.Should().Be(ErrorCode.InvalidValue);
        Peers.Count.Should().Be(0);
    }

    [Fact]
    public void List_SortsByCreatedAndPages()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(Peers.Register(new PeerRegistration("192.168.0.5", $"n{i}", 15001, null)).Id.Value);
            _tracker.Time.Advance(TimeSpan.FromSeconds(1));
        }

        Peers.List(new PeerListQuery()).Select(p => p.Id.Value).Should().Equal(ids);
        Peers.List(new PeerListQuery(Direction: SortDirection.Descending)).Select(p => p.Id.Value).Should().Equal(Enumerable.Reverse(ids));
        Peers.List(new PeerListQuery(1, 2)).Select(p => p.Id.Value).Should().Equal(ids[2], ids[3]);
        Peers.List(new PeerListQuery(9, 2)).Should().BeEmpty();
    }

    [Fact]
    public void RegisterSupernode_Twice_ReturnsSamePeerOnDownloadPort()
    {
        var first = Peers.RegisterSupernode();
        var second = Peers.RegisterSupernode();

        second.Should().Be(first);
        first.Port.Should().Be(8001);
        first.Ip.Should().Be("10.0.0.1");
        first.IsSupernode.Should().BeTrue();
        Peers.Supernode.Should().Be(first);
    }

    [Fact]
    public void Delete_Unknown_ReturnsFalse()
    {
        var peer = Peers.Register(new PeerRegistration("192.168.0.5", "n", 15001, null));

        Peers.Delete(peer.Id).Should().BeTrue();
        Peers.Delete(peer.Id).Should().BeFalse();
        Peers.TryGet(peer.Id, out _).Should().BeFalse();
    }
}
