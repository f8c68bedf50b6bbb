using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Dragonfly.Common.Ids;

/// <summary>
/// A client id. A dfget's is <c>&lt;localIP&gt;-&lt;sign&gt;</c>, sign = <c>&lt;pid&gt;-&lt;unix seconds, 3 decimals&gt;</c>;
/// the supernode's per task is <c>cdnnode:&lt;advertiseIP&gt;~&lt;taskId&gt;</c>.
/// </summary>
public readonly record struct Cid
{
    public const string SupernodePrefix = "cdnnode:";

    private readonly string? _value;

    private Cid(string value) => _value = value;

    public string Value => _value ?? string.Empty;

    public bool IsEmpty => _value is null;

    /// <summary>True for the supernode's own per-task cid.</summary>
    public bool IsSupernode => Value.StartsWith(SupernodePrefix, StringComparison.Ordinal);

    public static Cid ForSupernode(string advertiseIp, TaskId taskId) => new($"{SupernodePrefix}{advertiseIp}~{taskId.Value}");

    public static Cid ForClient(string localIp, string sign) => new($"{localIp}-{sign}");

    /// <summary>The sign of a dfget run: <c>&lt;pid&gt;-&lt;unix seconds with 3 decimals&gt;</c>.</summary>
    public static string Sign(int processId, DateTimeOffset now) =>
        string.Create(CultureInfo.InvariantCulture, $"{processId}-{now.ToUnixTimeMilliseconds() / 1000.0:F3}");

    public static Cid Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not a valid client id");

    public static bool TryParse([NotNullWhen(true)] string? value, out Cid id)
    {
        id = IdText.IsSafe(value) ? new Cid(value!) : default;
        return !id.IsEmpty;
    }

    public override string ToString() => Value;
}
