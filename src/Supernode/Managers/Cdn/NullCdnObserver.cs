using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>The observer used when no <see cref="ICdnObserver"/> is registered: ignores every callback.</summary>
public sealed class NullCdnObserver : ICdnObserver
{
    public static NullCdnObserver Instance { get; } = new();

    public ValueTask OnPieceReadyAsync(TaskId taskId, int pieceNum, PieceMd5 md5, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask OnCompletedAsync(TaskId taskId, CdnResult result, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
