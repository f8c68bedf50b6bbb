using System.Collections.Concurrent;
using System.Globalization;
using System.Net;

namespace Dragonfly.Supernode.Metrics;

/// <summary>
/// Turns the free text a dfget report carries (<c>POST /task/metrics</c>) into bounded Prometheus label values, so that
/// no client, buggy or hostile, can grow the supernode's series without end:
/// <list type="bullet">
/// <item><c>peer</c>: the address the report names, normalised, when it is an IP address and one of the first
/// <see cref="MaxPeers"/> distinct ones seen; <see cref="Invalid"/> when it is not an address, else <see cref="Other"/>;</item>
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

    /// <summary>Distinct peer addresses given a series of their own: a large fleet, far from what memory notices.</summary>
    public const int MaxPeers = 4096;

    private readonly BoundedValues _callSystems = new(MaxCallSystems);
    private readonly BoundedValues _peers = new(MaxPeers);

    public static string Reason(string? reason) =>
        string.IsNullOrEmpty(reason) ? string.Empty
        : reason.Length <= 4 && int.TryParse(reason, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code.ToString(CultureInfo.InvariantCulture)
        : Other;

    public string Peer(string? ip) =>
        string.IsNullOrEmpty(ip) ? string.Empty
        : IPAddress.TryParse(ip, out var address) ? _peers.Admit(address.ToString())
        : Invalid;

    public string CallSystem(string? callSystem) =>
        string.IsNullOrEmpty(callSystem) ? string.Empty
        : callSystem.Length > MaxCallSystemLength || !callSystem.All(IsTokenChar) ? Other
        : _callSystems.Admit(callSystem);

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '/' or '-';

    /// <summary>The first <c>capacity</c> distinct values keep their own label; every later one is <see cref="Other"/>.</summary>
    private sealed class BoundedValues(int capacity)
    {
        private readonly ConcurrentDictionary<string, byte> _admitted = new(StringComparer.Ordinal);
        private int _count;

        public string Admit(string value)
        {
            if (_admitted.ContainsKey(value))
            {
                return value;
            }

            // A slot is taken before the value is added, so racing reports never admit more than the capacity.
            if (Interlocked.Increment(ref _count) > capacity)
            {
                Interlocked.Decrement(ref _count);
                return Other;
            }

            if (!_admitted.TryAdd(value, 0))
            {
                Interlocked.Decrement(ref _count); // another report admitted the same value meanwhile
            }

            return value;
        }
    }
}
