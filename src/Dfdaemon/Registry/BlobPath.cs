using System.Text.RegularExpressions;

namespace Dragonfly.Dfdaemon.Registry;

/// <summary>The registry blob rules: which paths are layer blobs (<c>^.+/blobs/sha256.*$</c>) and the digest they name.</summary>
public static partial class BlobPath
{
    /// <summary>True for a path the original sends through dfget: <c>^.+/blobs/sha256.*$</c>.</summary>
    public static bool IsBlob(string path) => BlobRegex().IsMatch(path);

    /// <summary>The lower-case 64-hex sha256 digest a blob path names, or null.</summary>
    public static string? Sha256Of(string path)
    {
        var match = DigestRegex().Match(path);
        return match.Success ? match.Groups[1].Value.ToLowerInvariant() : null;
    }

    [GeneratedRegex("^.+/blobs/sha256.*$", RegexOptions.CultureInvariant, 100)]
    private static partial Regex BlobRegex();

    [GeneratedRegex("/blobs/sha256:([0-9a-fA-F]{64})(?:$|[/?])", RegexOptions.CultureInvariant, 100)]
    private static partial Regex DigestRegex();
}
