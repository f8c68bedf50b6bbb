using System.Diagnostics.CodeAnalysis;

namespace Dragonfly.Common.Ids;

/// <summary>
/// A task identity: 64 lowercase hex characters (SHA-256, see <see cref="Identity.TaskIdentity"/>).
/// Only a validated TaskId may name a file, so a hostile id can never reach the file system.
/// </summary>
public readonly record struct TaskId
{
    public const int Length = 64;

    private readonly string? _value;

    private TaskId(string value) => _value = value;

    public string Value => _value ?? string.Empty;

    /// <summary>The three-character shard directory used by the CDN layout (<c>download/&lt;3&gt;/&lt;id&gt;</c>).</summary>
    public string Shard => Value[..3];

    public bool IsEmpty => _value is null;

    public static TaskId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not a task id (64 hex characters)");

    public static bool TryParse([NotNullWhen(true)] string? value, out TaskId id)
    {
        id = default;
        if (value is null || value.Length != Length)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        id = new TaskId(value.ToLowerInvariant());
        return true;
    }

    public override string ToString() => Value;
}
