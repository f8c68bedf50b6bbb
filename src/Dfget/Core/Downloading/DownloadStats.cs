using System.Collections.Concurrent;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;

namespace Dragonfly.Dfget.Downloading;

/// <summary>Thread-safe byte accounting of one download (content bytes by origin of the piece).</summary>
public sealed class DownloadStats
{
    private readonly ConcurrentDictionary<string, int> _piecesPerPeer = new(StringComparer.Ordinal);
    private long _fromPeers;
    private long _fromSupernode;
    private long _fromSource;

    public long Total => Interlocked.Read(ref _fromPeers) + Interlocked.Read(ref _fromSupernode) + Interlocked.Read(ref _fromSource);

    public void AddPiece(PieceTask piece, int contentLength)
    {
        ArgumentNullException.ThrowIfNull(piece);
        Interlocked.Add(ref piece.IsSupernode ? ref _fromSupernode : ref _fromPeers, contentLength);
        _piecesPerPeer.AddOrUpdate(piece.PeerKey, 1, (_, n) => n + 1);
    }

    public void AddSource(long bytes) => Interlocked.Add(ref _fromSource, bytes);

    public ByteAccounting ToAccounting() => new()
    {
        FromPeers = Interlocked.Read(ref _fromPeers),
        FromSupernode = Interlocked.Read(ref _fromSupernode),
        FromSource = Interlocked.Read(ref _fromSource),
        PiecesPerPeer = new Dictionary<string, int>(_piecesPerPeer, StringComparer.Ordinal),
    };
}
