using System.Buffers;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Storage;
using Microsoft.Extensions.Options;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>What the cache holds for a task and how the CDN should proceed.</summary>
public enum CacheDecisionKind
{
    /// <summary>Nothing usable (missing, mismatching, expired, failed or corrupt): download from piece 0.</summary>
    Download,

    /// <summary>Finished and fresh: every piece is on disk, no source download.</summary>
    FullHit,

    /// <summary>Unfinished but fresh: continue from <see cref="CacheDecision.StartPiece"/> if the source supports Range.</summary>
    Resume,
}

/// <param name="Metadata">The cached metadata (null for <see cref="CacheDecisionKind.Download"/>).</param>
/// <param name="Pieces">Md5s of every piece (full hit) or of the verified prefix (resume).</param>
/// <param name="Md5FileRebuilt">True when the <c>.md5</c> file was unusable and the md5s were recomputed from the data file.</param>
public sealed record CacheDecision(
    CacheDecisionKind Kind,
    CdnFileMetadata? Metadata,
    IReadOnlyList<PieceMd5> Pieces,
    int StartPiece,
    string Reason,
    bool Md5FileRebuilt = false)
{
    public static CacheDecision Download(string reason, CdnFileMetadata? metadata = null) =>
        new(CacheDecisionKind.Download, metadata, [], 0, reason);
}

/// <summary>
/// Decides between full hit, resume and fresh download (§2.5 step 1–3): the <c>.meta</c> must match the task
/// (piece size, task id, url, md5 or identifier), record the source length just probed, and be fresh (conditional GET
/// answered 304).
/// </summary>
public sealed class CacheDetector
{
    private readonly IPieceStore _store;
    private readonly IOriginClient _origin;
    private readonly FileMetadataStore _meta;
    private readonly PieceMd5Store _md5s;
    private readonly CdnOptions _options;

    public CacheDetector(IPieceStore store, IOriginClient origin, IOptions<CdnOptions> options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(origin);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _origin = origin;
        _meta = new FileMetadataStore(store);
        _md5s = new PieceMd5Store(store);
        _options = options.Value;
    }

    public async Task<CacheDecision> DetectAsync(CdnTaskSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var meta = await _meta.ReadAsync(spec.TaskId, cancellationToken);
        if (meta is null)
        {
            return CacheDecision.Download("no metadata");
        }

        if (!Matches(meta, spec))
        {
            return CacheDecision.Download("metadata does not match the task");
        }

        if (!SourceLengthMatches(meta, spec))
        {
            return CacheDecision.Download("cached source length differs from the source's", meta);
        }

        if (!await IsFreshAsync(meta, spec, cancellationToken))
        {
            return CacheDecision.Download("source changed or freshness unknown", meta);
        }

        if (meta.Finish && meta.Success)
        {
            return await FullHitAsync(meta, spec, cancellationToken);
        }

        if (meta.Finish)
        {
            return CacheDecision.Download("previous run failed", meta);
        }

        // Only whole full-size pieces can be complete; the downloader re-reads and verifies them (and hashes their content).
        // A task whose own headers carry a Range (part of its identity) cannot be resumed with another Range.
        var length = _store.Length(spec.TaskId);
        var candidates = length < 0 ? 0 : (int)(length / spec.PieceSize);
        var ownRange = spec.Origin.Headers.Keys.Any(k => string.Equals(k, "Range", StringComparison.OrdinalIgnoreCase));
        return candidates == 0 || spec.HttpFileLength < 0 || ownRange
            ? CacheDecision.Download("nothing to resume", meta)
            : new CacheDecision(CacheDecisionKind.Resume, meta, [], candidates, "unfinished");
    }

    /// <summary>Usable only if pieceSize, taskID, url and md5-or-identifier match.</summary>
    public static bool Matches(CdnFileMetadata meta, CdnTaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(meta);
        ArgumentNullException.ThrowIfNull(spec);
        if (meta.PieceSize != spec.PieceSize
            || !string.Equals(meta.TaskId, spec.TaskId.Value, StringComparison.Ordinal)
            || !string.Equals(meta.Url, spec.TaskUrl, StringComparison.Ordinal))
        {
            return false;
        }

        return !string.IsNullOrEmpty(spec.Md5)
            ? string.Equals(meta.Md5, spec.Md5, StringComparison.OrdinalIgnoreCase)
            : string.Equals(meta.BizId, spec.Identifier ?? string.Empty, StringComparison.Ordinal);
    }

    /// <summary>
    /// A cache is never served or resumed for another source length than the one just probed (when known): one cut from a
    /// partial answer (a Range the task id did not carry) must not stand in for the whole file, even across restarts.
    /// A finished cache is checked by its recorded length and by the length its data file implies.
    /// </summary>
    public static bool SourceLengthMatches(CdnFileMetadata meta, CdnTaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(meta);
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.HttpFileLength < 0)
        {
            return true;
        }

        if (meta.HttpFileLength >= 0 && meta.HttpFileLength != spec.HttpFileLength)
        {
            return false;
        }

        return meta is not { Finish: true, Success: true }
            || PieceLayout.SourceLengthFromWrapped(meta.FileLength, spec.PieceSize) == spec.HttpFileLength;
    }

    /// <summary>Fresh only when the source answers the conditional GET with 304; no validators means expired.</summary>
    private async Task<bool> IsFreshAsync(CdnFileMetadata meta, CdnTaskSpec spec, CancellationToken cancellationToken)
    {
        if (meta.LastModified <= 0 && string.IsNullOrEmpty(meta.ETag))
        {
            return false;
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (meta.LastModified > 0)
        {
            headers["If-Modified-Since"] = DateTimeOffset.FromUnixTimeMilliseconds(meta.LastModified).ToString("r", CultureInfo.InvariantCulture);
        }

        if (!string.IsNullOrEmpty(meta.ETag))
        {
            headers["If-None-Match"] = meta.ETag;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.FreshnessTimeout);
        try
        {
            using var response = await _origin.GetAsync(spec.Origin, headers, timeout.Token);
            return response.StatusCode == HttpStatusCode.NotModified;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private async Task<CacheDecision> FullHitAsync(CdnFileMetadata meta, CdnTaskSpec spec, CancellationToken cancellationToken)
    {
        var length = _store.Length(spec.TaskId);
        if (length != meta.FileLength || length < PieceFrame.Overhead)
        {
            return CacheDecision.Download("data file length differs from metadata", meta);
        }

        var count = (int)((length + spec.PieceSize - 1) / spec.PieceSize);
        var pieces = await _md5s.ReadAsync(spec.TaskId, meta.RealMd5, count, cancellationToken);
        if (pieces is not null)
        {
            return new CacheDecision(CacheDecisionKind.FullHit, meta, pieces, count, "cache hit");
        }

        var md5 = new FileAndPieceMd5();
        var recomputed = await ReadPiecesAsync(_store, spec, length, untilInvalid: false, md5, cancellationToken);
        return recomputed.Count == count && string.Equals(md5.FinishFile(), meta.RealMd5, StringComparison.OrdinalIgnoreCase)
            ? new CacheDecision(CacheDecisionKind.FullHit, meta, recomputed, count, "cache hit (md5s recomputed)", Md5FileRebuilt: true)
            : CacheDecision.Download("cached data is corrupt", meta);
    }

    /// <summary>
    /// Reads wrapped pieces from offset 0 up to <paramref name="length"/>, validating each frame, hashing each piece and its
    /// content into the file md5 of <paramref name="md5"/>; returns their md5s. An invalid piece ends the list (<paramref name="untilInvalid"/>) or
    /// empties it.
    /// </summary>
    internal static async Task<IReadOnlyList<PieceMd5>> ReadPiecesAsync(
        IPieceStore store, CdnTaskSpec spec, long length, bool untilInvalid, FileAndPieceMd5 md5, CancellationToken cancellationToken)
    {
        var pieces = new List<PieceMd5>();
        var buffer = ArrayPool<byte>.Shared.Rent(spec.PieceSize);
        try
        {
            for (var offset = 0L; offset < length; offset += spec.PieceSize)
            {
                var want = (int)Math.Min(spec.PieceSize, length - offset);
                var got = await store.ReadAsync(spec.TaskId, offset, buffer.AsMemory(0, want), cancellationToken);
                var wrapped = buffer.AsSpan(0, got);
                if (got < PieceFrame.Overhead || !PieceFrame.TryUnwrap(wrapped, out var content)
                    || PieceFrame.ReadHead(wrapped).PieceSize != (spec.PieceSize & ~0xFFFFF)
                    || (offset + got < length && got != spec.PieceSize))
                {
                    if (untilInvalid)
                    {
                        break;
                    }

                    return [];
                }

                pieces.Add(new PieceMd5(md5.AppendPiece(wrapped), got));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return pieces;
    }
}
