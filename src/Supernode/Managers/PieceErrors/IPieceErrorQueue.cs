using Dragonfly.Supernode.Managers.Registration;

namespace Dragonfly.Supernode.Managers.PieceErrors;

/// <summary>
/// Piece-error handling (PROTOCOL §2.9): reports of bad supernode pieces are queued (bounded, 100) and checked by 4 workers,
/// one at a time per task with a 3 s cool-down; a bad CDN copy triggers a full task GC (files deleted).
/// </summary>
public interface IPieceErrorQueue
{
    /// <summary>
    /// Queues a report; false when it is ignored (bad input, uploader not the supernode, task cooling down, queue full).
    /// The legacy route answers 200 with an empty body either way.
    /// </summary>
    bool TryEnqueue(PieceErrorReport report);
}
