using System.Diagnostics.CodeAnalysis;

namespace Dragonfly.Common.Ids;

/// <summary>A registered peer (a host's uploader, or the supernode itself): <c>&lt;hostname&gt;-&lt;ip&gt;-&lt;unix nanos&gt;</c>.</summary>
public readonly record struct PeerId
{
    private readonly string? _value;

    private PeerId(string value) => _value = value;

    public string Value => _value ?? string.Empty;

    public bool IsEmpty => _value is null;

    public static PeerId Create(string hostName, string ip, long unixNanos) => new($"{hostName}-{ip}-{unixNanos}");

    public static PeerId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not a valid peer id");

    public static bool TryParse([NotNullWhen(true)] string? value, out PeerId id)
    {
        id = IdText.IsSafe(value) ? new PeerId(value!) : default;
        return !id.IsEmpty;
    }

    public override string ToString() => Value;
}
