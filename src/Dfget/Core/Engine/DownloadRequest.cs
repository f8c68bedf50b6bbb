using Dragonfly.Common.Nodes;
using Dragonfly.Common.Rates;
using Dragonfly.Dfget.WorkHome;

namespace Dragonfly.Dfget.Engine;

/// <summary>How a download obtains its bytes (<c>-p, --pattern</c>).</summary>
public enum DownloadPattern
{
    /// <summary>Register with an uploader port and share pieces with other peers.</summary>
    P2p,

    /// <summary>Register with port 0: download pieces but serve none.</summary>
    Cdn,

    /// <summary>Skip the supernode and download from the origin.</summary>
    Source,
}

/// <summary>
/// One download, immutable. Built by the CLI from flags and config, or by dfdaemon in-process. Defaults follow dfget:
/// 20 MB/s local limit, 64 KB/s minimum rate (timeout calculation), client queue 6, uploader expire 3 min / alive 5 min.
/// </summary>
public sealed record DownloadRequest
{
    public static readonly Rate DefaultLocalLimit = new(20 * Rate.MB);
    public static readonly Rate DefaultMinRate = new(64 * Rate.KB);
    public static readonly TimeSpan DefaultSupernodeRecovery = TimeSpan.FromSeconds(20);
    public const int DefaultClientQueue = 6;

    public required Uri Url { get; init; }

    /// <summary>The target file; must not be a directory.</summary>
    public required string Output { get; init; }

    /// <summary>Expected md5 of the whole file (hex); also part of the task id.</summary>
    public string? Md5 { get; init; }

    /// <summary>Extra task key, used when no md5 is given.</summary>
    public string? Identifier { get; init; }

    public string? CallSystem { get; init; }

    /// <summary>Query keys removed from the URL to build the task URL (<c>-f a&amp;b</c>).</summary>
    public IReadOnlyList<string> Filter { get; init; } = [];

    /// <summary><c>"Key: value"</c> headers sent to the origin (through the supernode, and when going back to source).</summary>
    public IReadOnlyList<string> Headers { get; init; } = [];

    /// <summary>Supernodes to try; null or empty means "node list empty" (back-source reason 8).</summary>
    public SupernodeList? Nodes { get; init; }

    public DownloadPattern Pattern { get; init; } = DownloadPattern.P2p;

    /// <summary><c>--notbs</c>: never fall back to the origin.</summary>
    public bool NotBackSource { get; init; }

    public Rate LocalLimit { get; init; } = DefaultLocalLimit;

    public Rate MinRate { get; init; } = DefaultMinRate;

    /// <summary>Host-wide upload limit handed to the uploader; zero = off.</summary>
    public Rate TotalLimit { get; init; }

    /// <summary>Whole-download timeout; zero = <c>length / MinRate + 10 s</c>, or 5 min while the length is unknown.</summary>
    public TimeSpan Timeout { get; init; }

    public bool Dfdaemon { get; init; }

    /// <summary>The supernode skips TLS verification towards the origin (and so does back-source).</summary>
    public bool Insecure { get; init; }

    /// <summary>PEM CA certificates forwarded as <c>rootCAs</c>, and trusted by back-source.</summary>
    public IReadOnlyList<byte[]> CaCerts { get; init; } = [];

    public required WorkHomeLayout WorkHome { get; init; }

    public int ClientQueue { get; init; } = DefaultClientQueue;

    /// <summary>Uploader bind IP; null = the local IP towards the supernode.</summary>
    public string? BindIp { get; init; }

    /// <summary>Uploader port; 0 = let the launcher choose.</summary>
    public int Port { get; init; }

    public TimeSpan ExpireTime { get; init; } = Uploader.UploaderOptions.DefaultExpireTime;

    public TimeSpan AliveTime { get; init; } = Uploader.UploaderOptions.DefaultAliveTime;

    public bool Verbose { get; init; }

    /// <summary>
    /// How long a download whose every supernode became unreachable mid-way keeps registering again (a supernode restart, a
    /// network blip) before P2P gives up with reason 3. Zero: give up at once, as the original did.
    /// </summary>
    public TimeSpan SupernodeRecovery { get; init; } = DefaultSupernodeRecovery;

    /// <summary>
    /// The caller checks a stronger digest of every byte it consumes and throws the result away on a mismatch (dfdaemon: the
    /// registry blob's sha256, checked before its response ends). The P2P path then skips the whole-file md5 against the
    /// supernode's <c>realMd5</c>, one MD5 pass over the file (~0.36 CPU-s per 256 MiB here); every piece is still md5-checked as
    /// it arrives. Never skipped when <see cref="Md5"/> is given.
    /// </summary>
    public bool CallerVerifiesContent { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> with a clear message when the request cannot be run.</summary>
    public void Validate()
    {
        if (!Url.IsAbsoluteUri || (Url.Scheme != Uri.UriSchemeHttp && Url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"url {Url} is not an http(s) url", nameof(Url));
        }

        if (string.IsNullOrWhiteSpace(Output))
        {
            throw new ArgumentException("output path is empty", nameof(Output));
        }

        if (Directory.Exists(Output) || Output.EndsWith(Path.DirectorySeparatorChar))
        {
            throw new ArgumentException($"output {Output} is a directory", nameof(Output));
        }

        if (!string.IsNullOrEmpty(Md5) && !Common.Hashing.Md5Hex.IsMd5(Md5))
        {
            throw new ArgumentException($"md5 {Md5} is not 32 hex characters", nameof(Md5));
        }

        if (LocalLimit.BytesPerSecond < 0 || MinRate.BytesPerSecond <= 0 || TotalLimit.BytesPerSecond < 0)
        {
            throw new ArgumentException("rates must be positive", nameof(MinRate));
        }

        if (Timeout < TimeSpan.Zero)
        {
            throw new ArgumentException("timeout must not be negative", nameof(Timeout));
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"port {Port} is out of range", nameof(Port));
        }

        if (ClientQueue <= 0)
        {
            throw new ArgumentException("client queue must be positive", nameof(ClientQueue));
        }

        foreach (var header in Headers)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || header.AsSpan(0, colon).Trim().IsEmpty)
            {
                throw new ArgumentException($"header '{header}' is not 'Key: value'", nameof(Headers));
            }
        }
    }

    /// <summary>The timeout for a known source length (negative = unknown).</summary>
    internal TimeSpan EffectiveTimeout(long sourceLength)
    {
        if (Timeout > TimeSpan.Zero)
        {
            return TimerLimits.Clamp(Timeout);
        }

        return sourceLength < 0
            ? TimeSpan.FromMinutes(5)
            : TimerLimits.FromSeconds(((double)sourceLength / MinRate.BytesPerSecond) + 10);
    }

    /// <summary>The headers split into pairs; values trimmed, empty values dropped.</summary>
    internal IEnumerable<KeyValuePair<string, string>> HeaderPairs()
    {
        foreach (var header in Headers)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var key = header[..colon].Trim();
            var value = header[(colon + 1)..].Trim();
            if (key.Length > 0 && value.Length > 0)
            {
                yield return new(key, value);
            }
        }
    }
}
