using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Api;
using Dragonfly.Supernode.Managers.Progress;
using ApiCdnStatus = Dragonfly.Common.Api.Models.CdnStatus;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>The wire form of a swarm (<c>GET /api/v1/tasks/{id}/swarm</c>) from the tracker's snapshot.</summary>
public class SwarmViewTests
{
    private static readonly TaskId Task = TaskId.Parse(new string('c', 64));
    private static readonly Cid Client = Cid.Parse("192.168.1.1-1-1.000");
    private static readonly Cid Supernode = Cid.ForSupernode("10.0.0.1", Task);

    [Fact]
    public void ToView_NoSwarmYet_IsAnEmptyView()
    {
        var view = SwarmEndpoints.ToView(Task.Value, ApiCdnStatus.Waiting, null);

        view.PieceTotal.Should().Be(-1);
        view.Width.Should().Be(0);
        view.CdnPieces.Should().BeEmpty();
        view.Peers.Should().BeEmpty();
    }

    [Fact]
    public void ToView_TotalUnknown_CoversTheHighestPieceAnyoneHasOrFetches()
    {
        var swarm = Swarm(pieceTotal: -1, cdn: [0, 1], holders: [0, 0, 0, 1], succeeded: [3], running: new() { [5] = Supernode });

        var view = SwarmEndpoints.ToView(Task.Value, ApiCdnStatus.Running, swarm);

        view.Width.Should().Be(6);
        Decode(view.CdnPieces).Should().Equal(0, 1);
        view.Holders.Should().Equal(0, 0, 0, 1, 0, 0);
        var peer = view.Peers.Should().ContainSingle().Subject;
        Decode(peer.Pieces).Should().Equal(3);
        peer.Running.Should().ContainSingle().Which.Should().BeEquivalentTo(new { PieceNum = 5, UploaderCid = Supernode.Value });
    }

    [Fact]
    public void ToView_TotalKnown_OneHolderCountPerPiece()
    {
        var swarm = Swarm(pieceTotal: 3, cdn: [0, 1, 2], holders: [1], succeeded: [0], running: []);

        var view = SwarmEndpoints.ToView(Task.Value, ApiCdnStatus.Success, swarm);

        view.Width.Should().Be(3);
        view.Holders.Should().Equal([1, 0, 0], "the tracker's list ends at the last held piece");
        Decode(view.CdnPieces).Should().Equal(0, 1, 2);
    }

    private static SwarmSnapshot Swarm(int pieceTotal, int[] cdn, int[] holders, int[] succeeded, Dictionary<int, Cid> running) =>
        new(Task, pieceTotal, cdn, holders, 0,
            [new ClientProgressSnapshot(Client, PeerId.Parse("h1-192.168.1.1-1"), succeeded, [], running)],
            new PieceSourceStats(1, 100, 2, 200));

    private static IReadOnlyList<int> Decode(string? field)
    {
        PieceBitfield.TryDecode(field, out var pieces).Should().BeTrue();
        return pieces;
    }
}
