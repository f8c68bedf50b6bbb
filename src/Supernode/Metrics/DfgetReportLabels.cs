using System.Collections.Concurrent;
using System.Globalization;
using System.Net;

namespace Dragonfly.Supernode.Metrics;

/// <summary>
/// Turns the free text a dfget report carries (<c>POST /task/metrics</c>) into bounded Prometheus label values, so that
/// no client, buggy or hostile, can grow the supernode's series without end:
/// <list type="bullet">
/// <item><c>peer</c>: the address the report names, normalised, or <see cref="Invalid"/> when it is not an IP address;</item>
/// <item><c>callsystem</c>: the caller tag (<c>--callsystem</c>) when it is a short token (<see cref="MaxCallSystemLength"/>
/// letters, digits and <c>._:/-</c>) and one of the first <see cref="MaxCallSystems"/> distinct tags seen, else
/// <see cref="Other"/>;</item>
/// <item><c>reason</c>: the back-source reason code when it is a number of up to four digits, else <see cref="Other"/>.</item>
/// </list>
/// </summary>
public sealed class DfgetReportLabels
{
    public const string Invalid = "invalid";
    public const string Other = "other";
    public const int MaxCallSystemLength = 64;
    public const int MaxCallSystems = 100;

    private readonly ConcurrentDictionary<string, byte> _callSystems = new(StringComparer.Ordinal);

    public static string Peer(string? ip) =>
        string.IsNullOrEmpty(ip) ? string.Empty
        : IPAddress.TryParse(ip, out var address) ? address.ToString()
        : Invalid;

    public static string Reason(string? reason) =>
        string.IsNullOrEmpty(reason) ? string.Empty
        : reason.Length <= 4 && int.TryParse(reason, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code.ToString(CultureInfo.InvariantCulture)
        : Other;

    public string CallSystem(string? callSystem)
    {
        if (string.IsNullOrEmpty(callSystem))
        {
            return string.Empty;
        }

        if (callSystem.Length > MaxCallSystemLength || !callSystem.All(IsTokenChar))
        {
            return Other;
        }

        if (_callSystems.ContainsKey(callSystem))
        {
            return callSystem;
        }

        // Racing reports may admit a few over the cap; the count stays bounded all the same.
        if (_callSystems.Count >= MaxCallSystems)
        {
            return Other;
        }

        _callSystems.TryAdd(callSystem, 0);
        return callSystem;
    }

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '/' or '-';
}
