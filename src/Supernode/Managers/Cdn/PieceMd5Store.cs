using System.Security.Cryptography;
using System.Text;
using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Storage;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>
/// The <c>&lt;taskId&gt;.md5</c> file: one <c>md5:len</c> line per piece, then the whole-source md5, then the SHA-1 hex of
/// the concatenation of all previous lines (no separators); lines joined by <c>\n</c>. Written only on success.
/// </summary>
public sealed class PieceMd5Store
{
    public const string Suffix = ".md5";

    private readonly IPieceStore _store;

    public PieceMd5Store(IPieceStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    public static string Format(IReadOnlyList<PieceMd5> pieces, string fileMd5)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        var lines = new List<string>(pieces.Count + 2);
        lines.AddRange(pieces.Select(p => p.ToString()));
        lines.Add(fileMd5);
        lines.Add(Sha1Of(lines));
        return string.Join('\n', lines);
    }

    /// <summary>
    /// Parses and validates a <c>.md5</c> document: the SHA-1 line must match, the file md5 must equal
    /// <paramref name="expectedFileMd5"/> and there must be <paramref name="expectedPieces"/> piece lines.
    /// </summary>
    public static IReadOnlyList<PieceMd5>? Parse(string? text, string expectedFileMd5, int expectedPieces)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var lines = text.Split('\n');
        if (lines.Length < 3 || lines.Length - 2 != expectedPieces)
        {
            return null;
        }

        var sha1 = lines[^1];
        var body = lines[..^1];
        if (!string.Equals(Sha1Of(body), sha1, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(body[^1], expectedFileMd5, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var pieces = new List<PieceMd5>(expectedPieces);
        foreach (var line in body[..^1])
        {
            if (!PieceMd5.TryParse(line, out var md5) || md5.WrappedLength < 0)
            {
                return null;
            }

            pieces.Add(md5);
        }

        return pieces;
    }

    public Task WriteAsync(TaskId taskId, IReadOnlyList<PieceMd5> pieces, string fileMd5, CancellationToken cancellationToken) =>
        _store.WriteTextAsync(taskId, Suffix, Format(pieces, fileMd5), cancellationToken);

    public async Task<IReadOnlyList<PieceMd5>?> ReadAsync(TaskId taskId, string expectedFileMd5, int expectedPieces, CancellationToken cancellationToken) =>
        Parse(await _store.ReadTextAsync(taskId, Suffix, cancellationToken), expectedFileMd5, expectedPieces);

    private static string Sha1Of(IEnumerable<string> lines)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        foreach (var line in lines)
        {
            sha1.AppendData(Encoding.UTF8.GetBytes(line));
        }

        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }
}
