using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Nodes;
using Dragonfly.Common.Pieces;

namespace Dragonfly.Dfget.Registration;

/// <summary>Which API surface a supernode was registered through.</summary>
public enum SupernodeApiKind
{
    /// <summary>REST <c>/api/v1/peers</c> + <c>/api/v1/tasks</c> (our supernode).</summary>
    V1,

    /// <summary><c>/peer/registry</c>, <c>/peer/task</c> (the original supernode).</summary>
    Legacy,
}

/// <summary>What this dfget registers: the fields of <c>/peer/registry</c> / <c>POST /api/v1/tasks</c>.</summary>
public sealed record RegistrationInfo
{
    public required string RawUrl { get; init; }

    public required string TaskUrl { get; init; }

    public required string Cid { get; init; }

    public required string Ip { get; init; }

    public required string HostName { get; init; }

    /// <summary>Uploader port, 0 for a cdn-pattern peer.</summary>
    public int Port { get; init; }

    /// <summary><c>/peer/file/&lt;taskFileName&gt;</c>.</summary>
    public required string Path { get; init; }

    public string Version { get; init; } = Engine.DfgetVersion.Current;

    public string? Md5 { get; init; }

    public string? Identifier { get; init; }

    public string? CallSystem { get; init; }

    public IReadOnlyList<string> Headers { get; init; } = [];

    public IReadOnlyList<string> Filter { get; init; } = [];

    public bool Dfdaemon { get; init; }

    public bool Insecure { get; init; }

    public IReadOnlyList<byte[]> RootCAs { get; init; } = [];

    /// <summary><c>p2p</c> or <c>cdn</c>.</summary>
    public string Pattern { get; init; } = "p2p";
}

/// <summary>A successful registration with one supernode.</summary>
public sealed record SupernodeRegistration(
    SupernodeAddress Node,
    SupernodeApiKind Api,
    string TaskId,
    long FileLength,
    int PieceSize,
    bool CdnSourceIsOrigin,
    string? PeerId);

/// <summary>The outcome of a (re-)registration.</summary>
public abstract record RegisterOutcome
{
    private RegisterOutcome()
    {
    }

    public sealed record Registered(SupernodeRegistration Registration) : RegisterOutcome;

    /// <summary>No supernode accepted the registration; <see cref="Code"/> is the last legacy/HTTP code seen (-100 transport).</summary>
    public sealed record Failed(int Code, string Message) : RegisterOutcome;
}

/// <summary>A piece to download, as scheduled by the supernode.</summary>
/// <param name="OwnerId">Legacy: the owner's cid (sent back as <c>dstCid</c>). V1: the owner's pID.</param>
public sealed record PieceTask(
    PieceRange Range,
    int PieceNum,
    int PieceSize,
    PieceMd5? Md5,
    string OwnerId,
    string PeerIp,
    int PeerPort,
    string Path)
{
    /// <summary>True when the piece comes from the supernode's download port (or the origin, in source CDN pattern).</summary>
    public bool IsSupernode => !Path.StartsWith("/peer/file/", StringComparison.Ordinal);

    /// <summary><c>ip:port</c> of the uploader.</summary>
    public string PeerKey => PeerIp.Contains(':', StringComparison.Ordinal) ? $"[{PeerIp}]:{PeerPort}" : $"{PeerIp}:{PeerPort}";
}

/// <summary>The outcome of a pull (legacy 601 / 602 / 600 / anything else).</summary>
public abstract record PullOutcome
{
    private PullOutcome()
    {
    }

    public sealed record Continue(IReadOnlyList<PieceTask> Pieces) : PullOutcome;

    /// <param name="Held">The supernode already held this answer while waiting for the swarm to change (v1 <c>waitMs</c>): ask again at once.</param>
    public sealed record Wait(string? Message, bool Held = false) : PullOutcome;

    /// <summary>All pieces are done. <see cref="Md5"/> is the source md5, <see cref="WrappedLength"/> the CDN (wrapped) length.</summary>
    public sealed record Finished(string? Md5, long WrappedLength) : PullOutcome;

    /// <summary>A failure: legacy code (500 CDN failed, 502 unknown task, ...) or -100 for a transport error.</summary>
    /// <param name="Code">The supernode's legacy code, or the HTTP status when the answer carried none (<paramref name="FromHttpStatus"/>).</param>
    /// <param name="FromHttpStatus">The code is a bare HTTP status (a proxy's 502, say), not a code the supernode put in its answer.</param>
    public sealed record Failed(int Code, string Message, bool FromHttpStatus = false) : PullOutcome;
}

/// <summary>What a pull reports about the previous piece.</summary>
/// <param name="AlreadyOnDisk">
/// The piece was on disk before the supernode scheduled it (it handed out again, after a new registration, a piece this
/// client had fetched earlier): nothing was transferred, so no uploader served it.
/// </param>
public readonly record struct PullReport(ClientTaskStatus Status, ClientPieceResult Result, PieceRange? Range, string? DstId, bool AlreadyOnDisk = false)
{
    public static PullReport Start { get; } = new(ClientTaskStatus.Start, ClientPieceResult.Invalid, null, null);

    public static PullReport Idle { get; } = new(ClientTaskStatus.Running, ClientPieceResult.Invalid, null, null);
}

/// <summary>The kind of a piece failure reported to the supernode.</summary>
public enum PieceErrorKind
{
    FileNotExist,
    FileMd5NotMatch,
}

/// <summary>The body of <c>POST /task/metrics</c>.</summary>
public sealed record DownloadMetricsReport(bool Success, TimeSpan Duration, int BackSourceReason, long FileLength, string? CallSystem);
