using System.Text.RegularExpressions;

namespace Dragonfly.Common.Security;

/// <summary>
/// Keeps secrets out of what the programs show: dfdaemon's <c>/args</c> and <c>/env</c>, and the supernode's task views
/// (a task's headers carry the registry's bearer token or a cookie; its URL may carry a user and password).
/// </summary>
public static partial class Redact
{
    /// <summary>What a hidden value is replaced with.</summary>
    public const string Hidden = "<redacted>";

    private static readonly string[] ShownPrefixes = ["DFDAEMON_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"];
    private static readonly string[] SecretWords = ["PASS", "SECRET", "TOKEN", "KEY", "AUTH", "CREDENTIAL"];
    private static readonly string[] SecretHeaders = ["Cookie", "Set-Cookie"];

    public static bool IsShownEnv(string key) => ShownPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));

    public static string EnvValue(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        return IsSecretName(key) ? Hidden : Argument(value);
    }

    /// <summary>Hides credentials embedded in URLs (<c>https://user:pass@host</c>).</summary>
    public static string Argument(string arg) => UserInfo().Replace(arg ?? string.Empty, "${scheme}" + Hidden + "@");

    /// <summary>
    /// A header's value as it may be shown: hidden for credentials (<c>Authorization</c>, <c>Proxy-Authorization</c>,
    /// cookies, and any name with a word such as token, key, secret or auth in it), else as given.
    /// </summary>
    public static string HeaderValue(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        return IsSecretName(name) || SecretHeaders.Any(h => name.Equals(h, StringComparison.OrdinalIgnoreCase)) ? Hidden : value;
    }

    /// <summary>The headers as they may be shown (<see cref="HeaderValue"/>).</summary>
    public static IReadOnlyDictionary<string, string> Headers(IReadOnlyDictionary<string, string> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        // Ordinal: the names are kept as given, and two that differ only in case stay two entries.
        return headers.ToDictionary(h => h.Key, h => HeaderValue(h.Key, h.Value), StringComparer.Ordinal);
    }

    private static bool IsSecretName(string name) => SecretWords.Any(w => name.Contains(w, StringComparison.OrdinalIgnoreCase));

    [GeneratedRegex("(?<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\\s]+@", RegexOptions.CultureInvariant, 100)]
    private static partial Regex UserInfo();
}
