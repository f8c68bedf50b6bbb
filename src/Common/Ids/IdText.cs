namespace Dragonfly.Common.Ids;

/// <summary>Shared validation for identifiers that arrive as text at the wire edge.</summary>
internal static class IdText
{
    public const int MaxLength = 256;

    /// <summary>
    /// True when <paramref name="value"/> is non-empty, bounded, printable ASCII without whitespace, path separators,
    /// or characters that would let an id escape a directory or a URL path segment.
    /// </summary>
    public static bool IsSafe(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength || value is "." or "..")
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c <= ' ' || c >= 0x7F || c is '/' or '\\' or '?' or '#' or '%' or '"' or '<' or '>')
            {
                return false;
            }
        }

        return true;
    }
}
