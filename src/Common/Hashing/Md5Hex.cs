using System.Security.Cryptography;

namespace Dragonfly.Common.Hashing;

/// <summary>MD5 helpers producing the lowercase hex the wire uses.</summary>
public static class Md5Hex
{
    public static string Of(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(MD5.HashData(data));

    public static IncrementalHash Create() => IncrementalHash.CreateHash(HashAlgorithmName.MD5);

    public static string Finish(IncrementalHash hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static async Task<string> OfStreamAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Convert.ToHexStringLower(await MD5.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    public static async Task<string> OfFileAsync(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            BufferSize = 0,
        });
        await using (stream.ConfigureAwait(false))
        {
            return await OfStreamAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }

    public static bool IsMd5(string? text) => text is { Length: 32 } && text.All(char.IsAsciiHexDigit);
}
