using System.Text;

namespace Dragonfly.TestCommon.Fuzzing;

/// <summary>
/// One case of a fuzz target: its own seeded <see cref="Random"/> (so it replays alone), a token that ends when the case
/// has run too long, and the input it tried (<see cref="Input"/>), which a failure reports.
/// </summary>
public sealed class FuzzCase
{
    internal FuzzCase(string target, int index, int seed, CancellationToken cancellationToken)
    {
        Target = target;
        Index = index;
        Random = new Random(seed);
        CancellationToken = cancellationToken;
    }

    public string Target { get; }

    public int Index { get; }

    public Random Random { get; }

    /// <summary>Cancelled when the case has run longer than the target's case timeout.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>What the case fed the target, for the failure message; set it before calling the target.</summary>
    public string? Input { get; set; }

    /// <summary>Records bytes as <see cref="Input"/> (<see cref="Escape(ReadOnlySpan{byte})"/>).</summary>
    public void SetInput(ReadOnlySpan<byte> bytes) => Input = Escape(bytes);

    /// <summary>Records text as <see cref="Input"/> (<see cref="Escape(string)"/>).</summary>
    public void SetInput(string? text) => Input = text is null ? "(null)" : Escape(text);

    /// <summary>Bytes as readable text (each byte one Latin-1 character, escaped as <see cref="Escape(string)"/> does).</summary>
    public static string Escape(ReadOnlySpan<byte> bytes) => Escape(Encoding.Latin1.GetString(bytes));

    /// <summary>Text as readable text: control, non-ASCII, surrogate and backslash characters escaped.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is >= ' ' and < (char)0x7F and not '\\')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append(c switch { '\r' => "\\r", '\n' => "\\n", '\t' => "\\t", '\\' => "\\\\", _ => $"\\u{(int)c:X4}" });
            }
        }

        return sb.ToString();
    }

    /// <summary>One of <paramref name="choices"/>.</summary>
    public T Pick<T>(params T[] choices)
    {
        ArgumentNullException.ThrowIfNull(choices);
        return choices[Random.Next(choices.Length)];
    }

    /// <summary>True with probability 1/<paramref name="n"/>.</summary>
    public bool OneIn(int n) => Random.Next(n) == 0;
}

/// <summary>A fuzz case broke a property: the message names the seed, the case and how to replay it.</summary>
public sealed class FuzzFailureException(string message, Exception? inner = null) : Exception(message, inner);
