using Dragonfly.Common.Pieces;

namespace Dragonfly.Supernode.Managers.Tasks;

/// <summary>
/// Which piece of a task a range reported by a client names: the tracker's piece reports and the piece-error reports read
/// it the same way, so neither acts on a piece the task does not have.
/// </summary>
public static class TaskPieceRange
{
    /// <summary>
    /// The piece a reported range names, when it is one of the task's: exactly one piece (<c>k·size-(k+1)·size−1</c>), and
    /// below <see cref="PieceBound"/>.
    /// </summary>
    public static bool TryParse(string? range, TaskSnapshot task, out int pieceNum)
    {
        ArgumentNullException.ThrowIfNull(task);
        pieceNum = -1;
        var pieceSize = task.PieceSize;
        if (!PieceRange.TryParse(range, out var parsed) || parsed.Length != pieceSize || parsed.Start % pieceSize != 0
            || parsed.Start / pieceSize >= PieceBound(task))
        {
            return false;
        }

        pieceNum = parsed.PieceNum;
        return true;
    }

    /// <summary>
    /// The task's piece count: the CDN's once it succeeded, else the one the probed source length gives (the register-time
    /// <see cref="TaskSnapshot.PieceTotal"/> estimate does not count the wrapping and can be one short), else (a source of
    /// unknown length) <see cref="PieceBitfield.MaxPieces"/>: a client reporting piece 2³⁰ must not make the tracker grow
    /// its bitmaps to it.
    /// </summary>
    public static long PieceBound(TaskSnapshot task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.CdnStatus == CdnStatus.Success && task.PieceTotal > 0 ? task.PieceTotal
            : task.HttpFileLength >= 0 && task.PieceSize > PieceFrame.Overhead ? PieceLayout.PieceCount(task.HttpFileLength, task.PieceSize)
            : PieceBitfield.MaxPieces;
    }
}
