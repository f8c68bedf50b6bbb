using System.Collections.Concurrent;
using Dragonfly.Common.Pieces;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>Everything the CDN holds in memory for one task: the current run, ready pieces and the written prefix.</summary>
internal sealed class CdnTaskState
{
    private long _writtenLength;
    private volatile bool _allWritten;
    private volatile CdnResult? _result;

    public CdnTaskState(CdnTaskSpec spec) => Spec = spec;

    /// <summary>Guards <see cref="Run"/> and <see cref="Cancellation"/> (never held across IO).</summary>
    public object Gate { get; } = new();

    public CdnTaskSpec Spec { get; set; }

    public Task<CdnResult>? Run { get; set; }

    public CancellationTokenSource? Cancellation { get; set; }

    public ConcurrentDictionary<int, PieceMd5> Pieces { get; } = new();

    /// <summary>Wrapped bytes of the contiguous prefix of pieces completely on disk.</summary>
    public long WrittenLength => Interlocked.Read(ref _writtenLength);

    /// <summary>True once the last piece is on disk (the file has its final length).</summary>
    public bool AllWritten => _allWritten;

    public CdnResult? Result => _result;

    public void Reset(CdnTaskSpec spec)
    {
        Spec = spec;
        Pieces.Clear();
        Interlocked.Exchange(ref _writtenLength, 0);
        _allWritten = false;
        _result = null;
    }

    public void PieceWritten(int pieceNum, PieceMd5 md5)
    {
        Pieces[pieceNum] = md5;
        Interlocked.Exchange(ref _writtenLength, ((long)pieceNum * Spec.PieceSize) + md5.WrappedLength);
    }

    public void AllPiecesWritten(long fileLength)
    {
        Interlocked.Exchange(ref _writtenLength, fileLength);
        _allWritten = true;
    }

    public void Complete(CdnResult result) => _result = result;
}
