namespace Dragonfly.Dfget.Registration;

/// <summary>
/// One download's conversation with the supernodes: register (trying nodes in order), pull pieces, report, migrate.
/// Hides whether the v1 REST API or the legacy protocol is spoken.
/// </summary>
public interface ISupernodeSession
{
    /// <summary>The current registration, null before a successful <see cref="RegisterAsync"/>.</summary>
    SupernodeRegistration? Current { get; }

    /// <summary>Registers with the first node that accepts, in locator order.</summary>
    Task<RegisterOutcome> RegisterAsync(CancellationToken cancellationToken);

    /// <summary>Re-registers with the next node different from the current one ("migrate").</summary>
    Task<RegisterOutcome> MigrateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Registers again, current node first, with changed facts about this peer (same cid): a p2p peer whose uploader does
    /// not serve on the registered port registers on another one, or as a cdn peer. Later migrations use <paramref name="info"/> too.
    /// </summary>
    Task<RegisterOutcome> ReRegisterAsync(RegistrationInfo info, CancellationToken cancellationToken);

    /// <summary>
    /// The supernode answered that it no longer knows this download (it was restarted, or it dropped the task, as it does
    /// when its cached copy turns out bad): registers again with the same facts and cid, the current node first and then
    /// the ones after it in locator order. The node recreates the task, so the swarm stays together on it.
    /// </summary>
    Task<RegisterOutcome> RejoinAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Every supernode became unreachable mid-download (killed, restarting, a network blip): registers again through the whole
    /// list, the current node included, backing off between rounds, until one accepts, one answers with a refusal (which ends
    /// the recovery at once), or <paramref name="window"/> has passed. Same cid, so a restarted supernode learns this peer again.
    /// </summary>
    Task<RegisterOutcome> RecoverAsync(TimeSpan window, CancellationToken cancellationToken);

    Task<PullOutcome> PullAsync(PullReport report, CancellationToken cancellationToken);

    /// <summary>
    /// Tells the supernode a piece is done (retried; failures are logged, not thrown). <paramref name="alreadyOnDisk"/>: it
    /// was not fetched now but found on disk from before a new registration, so the supernode must not count it as served.
    /// </summary>
    Task ReportPieceSuccessAsync(PieceTask piece, bool alreadyOnDisk, CancellationToken cancellationToken);

    Task ReportPieceErrorAsync(PieceTask piece, PieceErrorKind kind, string? realMd5, CancellationToken cancellationToken);

    /// <summary>
    /// Tells every supernode this download registered with that this peer no longer serves the task: the current one and
    /// any it migrated away from (which may have recovered and still send peers here), each with the task id it gave, in
    /// parallel. Failures are logged, not thrown; only <paramref name="cancellationToken"/> ends it early.
    /// </summary>
    Task ServiceDownAsync(CancellationToken cancellationToken);

    Task ReportMetricsAsync(DownloadMetricsReport report, CancellationToken cancellationToken);
}

/// <summary>Creates a session for one download.</summary>
public interface ISupernodeSessionFactory
{
    /// <param name="nodes">Nodes in the order to try them (<see cref="Common.Nodes.SupernodeList.Expand"/>).</param>
    ISupernodeSession Create(IReadOnlyList<Common.Nodes.SupernodeAddress> nodes, RegistrationInfo info, Random random);
}
