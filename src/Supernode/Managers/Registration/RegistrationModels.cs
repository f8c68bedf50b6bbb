using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Peers;

namespace Dragonfly.Supernode.Managers.Registration;

/// <summary>
/// A client's registration for a task: the legacy <c>POST /peer/registry</c> body, or the v1 <c>POST /tasks</c> body (then
/// <see cref="PeerId"/> names a peer created earlier by <c>POST /peers</c>). Strings arrive unvalidated from the wire;
/// <see cref="IRegistrationService.RegisterAsync"/> validates every field.
/// </summary>
/// <param name="TaskUrl">The client's filtered URL; when empty the supernode filters <paramref name="RawUrl"/> with <paramref name="Filter"/>.</param>
/// <param name="Headers">Source request headers as <c>"Key: value"</c> lines (legacy), parsed with <see cref="Tasks.TaskHeaders.Parse"/>.</param>
/// <param name="HeaderMap">Source request headers as a map (v1); merged after <paramref name="Headers"/>.</param>
/// <param name="SupernodeIp">The supernode address the client talks to; supernode pieces point there. Empty → the advertise IP.</param>
/// <param name="PeerId">An existing peer (v1); when null a new peer is registered from Ip/HostName/Port/Version.</param>
public sealed record RegistrationRequest
{
    public required string RawUrl { get; init; }
    public string? TaskUrl { get; init; }
    public IReadOnlyList<string>? Filter { get; init; }
    public required string Cid { get; init; }
    public string? Ip { get; init; }
    public string? HostName { get; init; }
    public int Port { get; init; }
    public required string Path { get; init; }
    public string? Version { get; init; }
    public string? Md5 { get; init; }
    public string? Identifier { get; init; }
    public string? CallSystem { get; init; }
    public IReadOnlyList<string>? Headers { get; init; }
    public IReadOnlyDictionary<string, string>? HeaderMap { get; init; }
    public bool Dfdaemon { get; init; }
    public bool Insecure { get; init; }
    public IReadOnlyList<byte[]>? RootCAs { get; init; }
    public string? SupernodeIp { get; init; }
    public string? PeerId { get; init; }

    /// <summary>HEAD-only <c>pattern</c>: <c>p2p</c> / <c>cdn</c> / <c>source</c> (case-insensitive); null → by port.</summary>
    public string? Pattern { get; init; }
}

/// <summary>A successful registration (the legacy reply's <c>data</c>, the v1 TaskCreateResponse).</summary>
/// <param name="FileLength">Source length, -1 when unknown.</param>
/// <param name="CdnSource"><c>supernode</c> or <c>source</c> (the <c>--cdn-pattern</c>).</param>
public sealed record RegistrationResult(TaskId TaskId, long FileLength, int PieceSize, string CdnSource, PeerId PeerId, Cid Cid);
