using Dragonfly.Common.Errors;
using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.Peers;

/// <summary>PeerMgr: registered peers (hosts with an uploader, and the supernode itself).</summary>
public interface IPeerMgr
{
    /// <summary>Registers a peer under a new id <c>&lt;hostname&gt;-&lt;ip&gt;-&lt;unix nanos&gt;</c> (unique even within one clock tick).</summary>
    /// <exception cref="DragonflyException">InvalidValue when the IP is not IPv4, the host name is empty or bad, or the port is not 0 / 15000..65000.</exception>
    PeerSnapshot Register(PeerRegistration registration);

    /// <summary>
    /// Registers the supernode itself (IP = <see cref="TrackerOptions.AdvertiseIp"/>, port = download port) once; later calls
    /// return the same peer. The host calls this at start.
    /// </summary>
    PeerSnapshot RegisterSupernode();

    /// <summary>The supernode's own peer, once <see cref="RegisterSupernode"/> ran.</summary>
    PeerSnapshot? Supernode { get; }

    bool TryGet(PeerId peerId, out PeerSnapshot peer);

    /// <exception cref="DragonflyException">DataNotFound when unknown.</exception>
    PeerSnapshot Get(PeerId peerId);

    /// <summary>Peers sorted by creation time (ties by id), then paged.</summary>
    IReadOnlyList<PeerSnapshot> List(PeerListQuery query);

    /// <summary>Number of registered peers.</summary>
    int Count { get; }

    /// <summary>
    /// Removes only the registration. To also drop the peer's swarm state use <see cref="Gc.IGcMgr.DeletePeer"/>
    /// (what <c>DELETE /api/v1/peers/{id}</c> should call). False when unknown.
    /// </summary>
    bool Delete(PeerId peerId);
}
