using Dragonfly.Common.Errors;

namespace Dragonfly.Supernode.Managers.Tasks;

/// <summary>Parses the registration's <c>"Key: value"</c> header strings into the map the source requests use.</summary>
public static class TaskHeaders
{
    /// <summary>Maximum number of header lines accepted from one registration.</summary>
    public const int MaxHeaders = 256;

    /// <summary>
    /// Splits each line on its first <c>:</c> and trims both parts; lines without a colon, an empty key or an empty value are
    /// dropped; values of a repeated key are joined with <c>,</c>. Keys compare case-insensitively, as HTTP header names do
    /// (the first spelling is kept), so <c>range</c> is the same header as <c>Range</c> for the task id and for the source.
    /// </summary>
    /// <exception cref="DragonflyException">InvalidValue when a key or value contains CR/LF, or there are too many lines.</exception>
    public static IReadOnlyDictionary<string, string> Parse(IEnumerable<string>? lines)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (lines is null)
        {
            return result;
        }

        var count = 0;
        foreach (var line in lines)
        {
            if (++count > MaxHeaders)
            {
                throw DragonflyException.Invalid($"headers: more than {MaxHeaders} lines");
            }

            if (string.IsNullOrEmpty(line))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            Add(result, line[..colon], line[(colon + 1)..]);
        }

        return result;
    }

    /// <summary>Normalises a header map (v1 API): trims, drops empty values, rejects CR/LF.</summary>
    public static IReadOnlyDictionary<string, string> FromMap(IReadOnlyDictionary<string, string>? map)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (map is null)
        {
            return result;
        }

        if (map.Count > MaxHeaders)
        {
            throw DragonflyException.Invalid($"headers: more than {MaxHeaders} entries");
        }

        foreach (var (key, value) in map)
        {
            Add(result, key, value);
        }

        return result;
    }

    /// <summary>
    /// The value of header <paramref name="name"/> whatever the spelling of its key, or null. A map with several spellings of
    /// it (one not built here) gives their values joined with <c>,</c> in ordinal key order, as they would all be sent.
    /// </summary>
    public static string? ValueOf(IReadOnlyDictionary<string, string> headers, string name)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var values = headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase))
            .OrderBy(h => h.Key, StringComparer.Ordinal)
            .Select(h => h.Value)
            .ToList();
        return values.Count == 0 ? null : string.Join(',', values);
    }

    private static void Add(Dictionary<string, string> result, string rawKey, string? rawValue)
    {
        var key = rawKey.Trim();
        var value = (rawValue ?? string.Empty).Trim();
        if (key.Length == 0 || value.Length == 0)
        {
            return;
        }

        if (key.AsSpan().IndexOfAny('\r', '\n') >= 0 || value.AsSpan().IndexOfAny('\r', '\n') >= 0 || key.Contains(' ', StringComparison.Ordinal))
        {
            throw DragonflyException.Invalid($"header '{key}' contains an illegal character");
        }

        result[key] = result.TryGetValue(key, out var existing) ? existing + "," + value : value;
    }
}
