using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.Scheduler;

/// <summary>How a scheduling round ended.</summary>
public enum ScheduleStatus
{
    /// <summary>Pieces were assigned (<see cref="ScheduleResult.Pieces"/> non-empty).</summary>
    Scheduled,

    /// <summary>The client already runs its down-limit of pieces: the original answers 601 with no pieces.</summary>
    Saturated,

    /// <summary>Nothing available, or every available piece's uploaders are busy: the client should wait (602).</summary>
    NothingAvailable,

    /// <summary>The task or the client has no swarm state.</summary>
    UnknownClient,
}

/// <summary>One piece handed to a client, and who serves it.</summary>
/// <param name="Uploader">The uploader's cid (the supernode's per-task cid for supernode pieces).</param>
/// <param name="PeerIp">Uploader IP (for supernode pieces: the supernode IP the client registered with).</param>
/// <param name="PeerPort">Uploader port (for supernode pieces: the download port).</param>
/// <param name="Path">The uploader's path, or null for a supernode piece (the CDN's download path applies).</param>
public readonly record struct PieceAssignment(int PieceNum, Cid Uploader, string PeerIp, int PeerPort, string? Path)
{
    public bool FromSupernode => Path is null;
}

/// <summary>The result of a scheduling round.</summary>
public sealed record ScheduleResult(ScheduleStatus Status, IReadOnlyList<PieceAssignment> Pieces)
{
    public static readonly ScheduleResult Saturated = new(ScheduleStatus.Saturated, []);
    public static readonly ScheduleResult NothingAvailable = new(ScheduleStatus.NothingAvailable, []);
    public static readonly ScheduleResult UnknownClient = new(ScheduleStatus.UnknownClient, []);
}
