using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Dragonfly.Supernode.Admin;

/// <summary>
/// The operator's secret for the management routes. It is never shown: <see cref="ToString"/> hides it (options are records,
/// whose generated <c>ToString</c> prints every property), and only its SHA-256 is kept. A presented token is hashed the same
/// way and the two digests are compared with <see cref="CryptographicOperations.FixedTimeEquals"/>: the time taken says
/// nothing about how many leading bytes matched, nor (as a comparison of the raw UTF-8 bytes would, which stops at a length
/// mismatch) how long the token is.
/// </summary>
public sealed class AdminToken
{
    /// <summary>
    /// The shortest token accepted: a short one could be guessed over the network (<see cref="AdminLockouts"/> slows a
    /// guesser per client address, not one with many addresses).
    /// </summary>
    public const int MinLength = 16;

    private readonly byte[] _digest;

    private AdminToken(byte[] digest, string source)
    {
        _digest = digest;
        Source = source;
    }

    /// <summary>Where the token was configured (a file path, a key or a variable name), for the start-up log. Not secret.</summary>
    public string Source { get; }

    /// <summary>
    /// A token from its text, trimmed (a token file usually ends with a newline): at least <see cref="MinLength"/> visible
    /// ASCII characters without spaces, which is what a client can send in <c>Authorization: Bearer &lt;token&gt;</c>.
    /// The error never repeats the text.
    /// </summary>
    public static bool TryCreate(string? text, string source, [NotNullWhen(true)] out AdminToken? token, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(source);
        token = null;
        var trimmed = (text ?? string.Empty).Trim();
        if (trimmed.Length == 0)
        {
            error = "is empty";
            return false;
        }

        if (trimmed.Any(c => c is < '!' or > '~'))
        {
            error = "must be visible ASCII characters without spaces (e.g. the output of 'openssl rand -hex 32')";
            return false;
        }

        if (trimmed.Length < MinLength)
        {
            error = $"must be at least {MinLength} characters long (e.g. the output of 'openssl rand -hex 32')";
            return false;
        }

        token = new AdminToken(SHA256.HashData(Encoding.UTF8.GetBytes(trimmed)), source);
        error = null;
        return true;
    }

    /// <summary>True when <paramref name="presented"/> is this token, in time independent of where or whether they differ.</summary>
    public bool Matches(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), digest);
        return CryptographicOperations.FixedTimeEquals(digest, _digest);
    }

    public override string ToString() => $"AdminToken(hidden, from {Source})";
}
