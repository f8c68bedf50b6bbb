using System.Security.Cryptography;
using System.Text;
using Dragonfly.Common.Ids;

namespace Dragonfly.Common.Identity;

/// <summary>
/// Task identity as the original computes it: the task URL is the raw URL minus filtered query keys, and the task id is
/// the lowercase hex SHA-256 of <c>KEY + taskURL + sign + [Range] + KEY</c>, sign being the md5 if given, else the identifier.
/// </summary>
public static class TaskIdentity
{
    /// <summary>The 32-character constant that brackets every hashed task key.</summary>
    public const string Key = ">I$pg-~AS~sP'rqu_`Oh&lz#9]\"=;nE%";

    /// <summary>Computes the task id. <paramref name="rangeHeader"/> is the value of a <c>Range</c> request header, if any.</summary>
    public static TaskId ComputeTaskId(string taskUrl, string? md5, string? identifier, string? rangeHeader = null)
    {
        ArgumentNullException.ThrowIfNull(taskUrl);
        var sign = !string.IsNullOrEmpty(md5) ? md5 : identifier ?? string.Empty;
        var text = string.Concat(Key, taskUrl, sign, rangeHeader ?? string.Empty, Key);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return TaskId.Parse(Convert.ToHexStringLower(hash));
    }

    /// <summary>
    /// Removes every query parameter whose key is in <paramref name="filters"/>: splits the URL at the first <c>?</c>,
    /// splits the query on <c>&amp;</c>, drops each <c>k</c> or <c>k=v</c> whose key is filtered, and drops the <c>?</c>
    /// when nothing is left.
    /// </summary>
    public static string FilterUrl(string rawUrl, IEnumerable<string>? filters)
    {
        ArgumentNullException.ThrowIfNull(rawUrl);
        var keys = filters?.Where(f => !string.IsNullOrEmpty(f)).ToHashSet(StringComparer.Ordinal);
        if (keys is null || keys.Count == 0)
        {
            return rawUrl;
        }

        var q = rawUrl.IndexOf('?', StringComparison.Ordinal);
        if (q < 0)
        {
            return rawUrl;
        }

        var kept = rawUrl[(q + 1)..]
            .Split('&')
            .Where(part =>
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                var key = eq < 0 ? part : part[..eq];
                return !keys.Contains(key);
            })
            .ToArray();

        var query = string.Join('&', kept);
        return query.Length == 0 ? rawUrl[..q] : $"{rawUrl[..q]}?{query}";
    }

    /// <summary>Splits a dfget <c>-f</c> value (<c>&amp;</c>-separated keys) into filter keys.</summary>
    public static IReadOnlyList<string> ParseFilter(string? filter) =>
        string.IsNullOrEmpty(filter) ? [] : filter.Split('&', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>True when <paramref name="url"/> is an absolute http or https URL with a host.</summary>
    public static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) &&
        (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) &&
        !string.IsNullOrEmpty(uri.Host);
}
