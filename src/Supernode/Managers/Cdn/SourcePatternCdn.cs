using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Origin;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>
/// The <c>source</c> CDN pattern: nothing is cached. The source must have a known length and support Range; every piece is
/// available at once and peers fetch it from the raw URL with the piece range as the source Range (no wrapping, §3.4
/// <c>cdnSource: source</c>): piece k is source bytes <c>[k·pieceSize, (k+1)·pieceSize)</c>, count ⌈len/pieceSize⌉.
/// Pieces are reported with an empty md5 (none is known) and their byte count; the result's FileLength is the source length.
/// </summary>
internal sealed class SourcePatternCdn
{
    private readonly IOriginClient _origin;

    public SourcePatternCdn(IOriginClient origin) => _origin = origin;

    public async Task<CdnResult> RunAsync(CdnTaskSpec spec, CdnTaskState state, CdnDownloader.PieceReady onPiece, CancellationToken cancellationToken)
    {
        if (spec.HttpFileLength < 0)
        {
            return new CdnResult(false, -1, -1, null, CacheHit: false, "source pattern requires a known source length");
        }

        if (!await _origin.SupportsRangeAsync(spec.Origin, cancellationToken))
        {
            return new CdnResult(false, -1, -1, null, CacheHit: false, "source pattern requires a source that supports Range");
        }

        // Unwrapped pieces: piece k is source bytes [k·pieceSize, (k+1)·pieceSize) (the peer's Range is used as is).
        var length = spec.HttpFileLength;
        var count = length == 0 ? 1 : (int)((length + spec.PieceSize - 1) / spec.PieceSize);
        for (var i = 0; i < count; i++)
        {
            var bytes = (int)Math.Min(spec.PieceSize, length - ((long)i * spec.PieceSize));
            state.Pieces[i] = new PieceMd5(string.Empty, bytes);
        }

        state.AllPiecesWritten(spec.HttpFileLength);
        for (var i = 0; i < count; i++)
        {
            await onPiece(i, state.Pieces[i]);
        }

        return new CdnResult(true, spec.HttpFileLength, spec.HttpFileLength, spec.Md5 ?? string.Empty, CacheHit: false);
    }
}
