using System.Collections.Concurrent;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;

namespace Dragonfly.Dfget.Downloading;

/// <summary>
/// Thread-safe byte accounting of one download. Two different counts: bytes <em>transferred</em>, by where they came from
/// (every byte received, a piece fetched a second time included), and bytes <em>completed</em> by P2P, the distinct bytes
/// of the file on disk, which never pass its length (<see cref="ByteRangeSet"/>). They differ when, after a migration to
/// a supernode that cuts the file in pieces of another size, pieces on disk are fetched again (<see cref="ByteAccounting.Refetched"/>).
/// </summary>
public sealed class DownloadStats
{
    private readonly ConcurrentDictionary<string, int> _piecesPerPeer = new(StringComparer.Ordinal);
    private readonly ByteRangeSet _completed = new();
    private long _fromPeers;
    private long _fromSupernode;
    private long _fromSource;
    private long _refetched;

    /// <summary>The distinct bytes of the file P2P has written (progress toward completion).</summary>
    public long Completed => _completed.Covered;

    /// <summary>
    /// Counts a piece fetched from a peer or the supernode whose content (<paramref name="contentLength"/> bytes) is now on
    /// disk at <paramref name="contentOffset"/>; returns the bytes completed so far.
    /// </summary>
    public long AddPiece(PieceTask piece, long contentOffset, int contentLength)
    {
        ArgumentNullException.ThrowIfNull(piece);
        Interlocked.Add(ref piece.IsSupernode ? ref _fromSupernode : ref _fromPeers, contentLength);
        _piecesPerPeer.AddOrUpdate(piece.PeerKey, 1, (_, n) => n + 1);
        var (added, completed) = _completed.Add(contentOffset, contentLength);
        Interlocked.Add(ref _refetched, contentLength - added);
        return completed;
    }

    public void AddSource(long bytes) => Interlocked.Add(ref _fromSource, bytes);

    public ByteAccounting ToAccounting() => new()
    {
        FromPeers = Interlocked.Read(ref _fromPeers),
        FromSupernode = Interlocked.Read(ref _fromSupernode),
        FromSource = Interlocked.Read(ref _fromSource),
        Refetched = Interlocked.Read(ref _refetched),
        PiecesPerPeer = new Dictionary<string, int>(_piecesPerPeer, StringComparer.Ordinal),
    };
}
