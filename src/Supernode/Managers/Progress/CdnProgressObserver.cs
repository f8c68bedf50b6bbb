using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.Tasks;

namespace Dragonfly.Supernode.Managers.Progress;

/// <summary>
/// Feeds the CDN's callbacks into the tracker: each piece written becomes available to peers at once; completion sets the
/// task's CDN status, real md5, wrapped length and the real piece total (used for finish detection).
/// </summary>
public sealed class CdnProgressObserver : ICdnObserver
{
    private readonly IProgressMgr _progress;
    private readonly ITaskMgr _tasks;

    public CdnProgressObserver(IProgressMgr progress, ITaskMgr tasks)
    {
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(tasks);
        _progress = progress;
        _tasks = tasks;
    }

    /// <inheritdoc />
    public ValueTask OnPieceReadyAsync(TaskId taskId, int pieceNum, PieceMd5 md5, CancellationToken cancellationToken)
    {
        if (_tasks.TryGet(taskId, out _))
        {
            _progress.MarkCdnPiece(taskId, pieceNum);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask OnCompletedAsync(TaskId taskId, CdnResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (_tasks.CompleteCdn(taskId, result) && _tasks.TryGet(taskId, out var task))
        {
            _progress.CompleteCdn(taskId, result.Success, task.PieceTotal);
        }

        return ValueTask.CompletedTask;
    }
}
