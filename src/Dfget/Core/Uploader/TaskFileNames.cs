using System.Diagnostics.CodeAnalysis;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// Validation of the <c>&lt;taskFileName&gt;</c> path segment (<c>&lt;output name&gt;-&lt;sign&gt;</c>) before it touches the
/// file system: one plain file name, and the file it names must resolve directly inside the registered data dir.
/// </summary>
public static class TaskFileNames
{
    public const string ServiceSuffix = ".service";

    /// <summary>Longest accepted name; with <c>.service</c> it stays within the usual 255-byte file-name limit.</summary>
    public const int MaxLength = 240;

    /// <summary>
    /// True for a non-empty name without path separators, <c>..</c>, control characters or encoded separators.
    /// </summary>
    public static bool IsValid([NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || name == "." || name.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (char.IsControl(c) || c is '/' or '\\' or '\0' || char.IsSurrogate(c))
            {
                return false;
            }
        }

        // An encoded separator left undecoded by the server (%2F, %5C) never names a real task file.
        return !name.Contains("%2f", StringComparison.OrdinalIgnoreCase) && !name.Contains("%5c", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The full path of <c>&lt;dataDir&gt;/&lt;name&gt;.service</c> when <paramref name="name"/> is valid and the result lies
    /// directly inside <paramref name="dataDir"/>; otherwise false.
    /// </summary>
    public static bool TryGetServicePath(string dataDir, string? name, [NotNullWhen(true)] out string? path)
    {
        path = null;
        if (!IsValid(name))
        {
            return false;
        }

        var root = Path.GetFullPath(dataDir);
        var candidate = Path.GetFullPath(Path.Combine(root, name + ServiceSuffix));
        if (!string.Equals(Path.GetDirectoryName(candidate), Path.TrimEndingDirectorySeparator(root), StringComparison.Ordinal))
        {
            return false;
        }

        path = candidate;
        return true;
    }
}
