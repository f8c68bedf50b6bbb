using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.Peers;

/// <summary>How a peer takes part in a swarm (registration <c>pattern</c>; port 0 means <see cref="Cdn"/>).</summary>
public enum PeerPattern
{
    /// <summary>Downloads and uploads (has an uploader port).</summary>
    P2P,

    /// <summary>Downloads from the supernode only; never chosen as an uploader.</summary>
    Cdn,

    /// <summary>Downloads from the source; never chosen as an uploader.</summary>
    Source,
}

/// <summary>A peer registration request (v1 PeerCreateRequest, or the peer part of a legacy registration).</summary>
/// <param name="Port">Uploader port: 0 (no uploader, a "cdn" peer) or 15000..65000.</param>
public sealed record PeerRegistration(string Ip, string HostName, int Port, string? Version, PeerPattern? Pattern = null);

/// <summary>A registered peer (the wire PeerInfo).</summary>
public sealed record PeerSnapshot(
    PeerId Id,
    string Ip,
    string HostName,
    int Port,
    string? Version,
    PeerPattern Pattern,
    DateTimeOffset Created,
    bool IsSupernode);

/// <summary>Sort direction of a peer listing (by <see cref="PeerSnapshot.Created"/>).</summary>
public enum SortDirection
{
    Ascending,
    Descending,
}

/// <summary>Paging of <c>GET /api/v1/peers</c>: page 0-based, size 0 = all.</summary>
public sealed record PeerListQuery(int PageNum = 0, int PageSize = 0, SortDirection Direction = SortDirection.Ascending);
