using System.Text.RegularExpressions;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>Keeps secrets out of <c>/args</c> and <c>/env</c>.</summary>
public static partial class Redact
{
    private static readonly string[] ShownPrefixes = ["DFDAEMON_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"];
    private static readonly string[] SecretWords = ["PASS", "SECRET", "TOKEN", "KEY", "AUTH", "CREDENTIAL"];

    public static bool IsShownEnv(string key) => ShownPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));

    public static string EnvValue(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (SecretWords.Any(w => key.Contains(w, StringComparison.OrdinalIgnoreCase)))
        {
            return "<redacted>";
        }

        return UserInfo().Replace(value, "${scheme}<redacted>@");
    }

    /// <summary>Hides credentials embedded in URLs (<c>https://user:pass@host</c>).</summary>
    public static string Argument(string arg) => UserInfo().Replace(arg ?? string.Empty, "${scheme}<redacted>@");

    [GeneratedRegex("(?<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\\s]+@", RegexOptions.CultureInvariant, 100)]
    private static partial Regex UserInfo();
}
