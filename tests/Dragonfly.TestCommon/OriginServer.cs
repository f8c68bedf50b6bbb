using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dragonfly.TestCommon;

/// <summary>
/// A real-socket ORIGIN (source) web server for tests: Kestrel on 127.0.0.1:0 serving generated, deterministic files.
/// <para>API:</para>
/// <list type="bullet">
/// <item><c>await using var origin = await OriginServer.StartAsync();</c> then <c>origin.Url("/a.bin")</c> is the absolute URL.</item>
/// <item><c>var f = origin.AddFile("/a.bin", length, seed)</c> registers a file of <c>length</c> bytes whose content is a
/// pure function of (seed, offset) (<see cref="OriginContent"/>), so 200+ MiB files are streamed without being held in
/// memory. <c>AddFile(path, byte[])</c> serves fixed bytes. Every file has an ETag and a Last-Modified.</item>
/// <item>Per-file knobs on <see cref="OriginFile"/>: <c>StatusOverride</c> (e.g. 404, 500), <c>RequireBasicAuth(user, pw)</c>
/// (401 + <c>WWW-Authenticate: Basic</c> when missing/wrong), <c>SupportsRange</c> (false: Range ignored, always 200),
/// <c>SendValidators</c> (false: no ETag/Last-Modified), <c>ChunkDelay</c>/<c>ChunkSize</c> (slow streaming),
/// <c>HoldAfterBytes</c> + <c>Release()</c> (send that many body bytes, then wait until released),
/// <c>AbortAfterBytes</c> (send that many body bytes, then abort the connection), <c>Change(seed, length)</c> (new content,
/// new ETag, Last-Modified + 10 s).</item>
/// <item>Behaviour: GET/HEAD; single <c>Range: bytes=s-e|s-|-n</c> → 206 with Content-Range (416 when unsatisfiable);
/// <c>If-None-Match</c> equal to the ETag, or <c>If-Modified-Since</c> ≥ Last-Modified → 304 with no body; unknown path → 404.</item>
/// <item>Accounting: <see cref="Requests"/> (every request, in order, with the headers that matter and the body bytes
/// sent), <see cref="RequestCount"/>, <see cref="BodyBytesServed"/>; <see cref="ResetCounters"/> clears them.</item>
/// </list>
/// </summary>
public sealed class OriginServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, OriginFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<OriginRequestRecord> _requests = new();
    private long _bodyBytes;

    private OriginServer(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyCollection<OriginRequestRecord> Requests => _requests;

    public int RequestCount => _requests.Count;

    public long BodyBytesServed => Interlocked.Read(ref _bodyBytes);

    public static async Task<OriginServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var app = LoopbackWebApp.Build();
        var server = new OriginServer(app);
        app.Run(server.HandleAsync);
        var port = await LoopbackWebApp.StartAsync(app, cancellationToken);
        server.BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        return server;
    }

    public Uri Url(string path) => new(BaseAddress, path);

    public OriginFile AddFile(string path, long length, int seed = 1)
    {
        var file = new OriginFile(length, seed, null);
        _files[path] = file;
        return file;
    }

    public OriginFile AddFile(string path, byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var file = new OriginFile(content.Length, 0, content);
        _files[path] = file;
        return file;
    }

    public OriginFile File(string path) => _files[path];

    public void ResetCounters()
    {
        _requests.Clear();
        Interlocked.Exchange(ref _bodyBytes, 0);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var file in _files.Values)
        {
            file.Release();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var record = new OriginRequestRecord(
            request.Method,
            request.Path.Value ?? string.Empty,
            request.Headers.Range.ToString(),
            request.Headers.IfModifiedSince.ToString(),
            request.Headers.IfNoneMatch.ToString(),
            request.Headers.Authorization.ToString());
        // Recorded before anything is sent (status when headers go out, bytes before each write), so a client that has
        // seen a response always finds it fully accounted here.
        _requests.Enqueue(record);
        response.OnStarting(() =>
        {
            record.Status = response.StatusCode;
            return Task.CompletedTask;
        });
        if (!_files.TryGetValue(request.Path.Value ?? string.Empty, out var file))
        {
            response.StatusCode = 404;
            return;
        }

        await file.ServeAsync(context, record, n => Interlocked.Add(ref _bodyBytes, n));
    }
}

/// <summary>One request seen by <see cref="OriginServer"/>.</summary>
public sealed record OriginRequestRecord(string Method, string Path, string Range, string IfModifiedSince, string IfNoneMatch, string Authorization)
{
    private long _bodyBytes;

    public int Status { get; set; }

    public long BodyBytes => Interlocked.Read(ref _bodyBytes);

    internal void AddBytes(long n) => Interlocked.Add(ref _bodyBytes, n);
}

/// <summary>A file served by <see cref="OriginServer"/>; see its summary for the knobs.</summary>
public sealed class OriginFile
{
    private readonly object _gate = new();
    private TaskCompletionSource _hold = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[]? _fixed;

    internal OriginFile(long length, int seed, byte[]? content)
    {
        Length = length;
        Seed = seed;
        _fixed = content;
        LastModified = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        ETag = NewETag();
    }

    public long Length { get; private set; }

    public int Seed { get; private set; }

    public DateTimeOffset LastModified { get; private set; }

    public string ETag { get; private set; }

    public int? StatusOverride { get; set; }

    public bool SupportsRange { get; set; } = true;

    public bool SendValidators { get; set; } = true;

    public bool SendContentLength { get; set; } = true;

    public TimeSpan ChunkDelay { get; set; }

    public int ChunkSize { get; set; } = 64 * 1024;

    public long? HoldAfterBytes { get; set; }

    public long? AbortAfterBytes { get; set; }

    public string? BasicAuth { get; private set; }

    public void RequireBasicAuth(string user, string password) =>
        BasicAuth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    /// <summary>Lets a response held by <see cref="HoldAfterBytes"/> continue.</summary>
    public void Release()
    {
        lock (_gate)
        {
            _hold.TrySetResult();
        }
    }

    /// <summary>New content (and optionally length): new ETag, Last-Modified 10 s later.</summary>
    public void Change(int seed, long? length = null)
    {
        lock (_gate)
        {
            Seed = seed;
            _fixed = null;
            Length = length ?? Length;
            LastModified = LastModified.AddSeconds(10);
            ETag = NewETag();
        }
    }

    /// <summary>The content bytes [offset, offset + destination.Length).</summary>
    public void Fill(long offset, Span<byte> destination)
    {
        if (_fixed is { } content)
        {
            content.AsSpan((int)offset, destination.Length).CopyTo(destination);
            return;
        }

        OriginContent.Fill(Seed, offset, destination);
    }

    public byte[] ReadAll()
    {
        var bytes = new byte[Length];
        Fill(0, bytes);
        return bytes;
    }

    public string Md5()
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new byte[1 << 20];
        for (long offset = 0; offset < Length; offset += buffer.Length)
        {
            var n = (int)Math.Min(buffer.Length, Length - offset);
            Fill(offset, buffer.AsSpan(0, n));
            md5.AppendData(buffer, 0, n);
        }

        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    internal async Task ServeAsync(HttpContext context, OriginRequestRecord record, Action<long> countBytes)
    {
        var request = context.Request;
        var response = context.Response;
        if (StatusOverride is { } status)
        {
            response.StatusCode = status;
            return;
        }

        if (BasicAuth is { } auth && !string.Equals(request.Headers.Authorization.ToString(), auth, StringComparison.Ordinal))
        {
            response.StatusCode = 401;
            response.Headers.WWWAuthenticate = "Basic realm=\"origin\"";
            return;
        }

        if (SendValidators)
        {
            response.Headers.ETag = ETag;
            response.Headers.LastModified = LastModified.ToString("r", CultureInfo.InvariantCulture);
            var ifNoneMatch = request.Headers.IfNoneMatch.ToString();
            var ims = request.Headers.IfModifiedSince.ToString();
            if ((ifNoneMatch.Length > 0 && ifNoneMatch == ETag)
                || (ifNoneMatch.Length == 0 && DateTimeOffset.TryParse(ims, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since)
                    && since >= LastModified))
            {
                response.StatusCode = 304;
                return;
            }
        }

        var length = Length;
        long start = 0;
        var end = length - 1;
        response.StatusCode = 200;
        if (SupportsRange)
        {
            response.Headers.AcceptRanges = "bytes";
            if (TryRange(request.Headers.Range.ToString(), length, out var s, out var e, out var unsatisfiable))
            {
                (start, end) = (s, e);
                response.StatusCode = 206;
                response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{end}/{length}");
            }
            else if (unsatisfiable)
            {
                response.StatusCode = 416;
                response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{length}");
                return;
            }
        }

        var count = end - start + 1;
        if (SendContentLength)
        {
            response.ContentLength = count;
        }

        response.ContentType = "application/octet-stream";
        if (HttpMethods.IsHead(request.Method))
        {
            return;
        }

        var buffer = new byte[Math.Max(1, ChunkSize)];
        long sent = 0;
        var abort = context.RequestAborted;
        try
        {
            while (sent < count)
            {
                if (HoldAfterBytes is { } hold && sent >= hold)
                {
                    Task wait;
                    lock (_gate)
                    {
                        wait = _hold.Task;
                    }

                    await wait.WaitAsync(abort);
                    HoldAfterBytes = null;
                }

                if (AbortAfterBytes is { } limit && sent >= limit)
                {
                    await response.Body.FlushAsync(abort);
                    context.Abort();
                    return;
                }

                var n = (int)Math.Min(buffer.Length, count - sent);
                if (HoldAfterBytes is { } h && sent < h)
                {
                    n = (int)Math.Min(n, h - sent);
                }

                if (AbortAfterBytes is { } a && sent < a)
                {
                    n = (int)Math.Min(n, a - sent);
                }

                Fill(start + sent, buffer.AsSpan(0, n));
                record.AddBytes(n);
                countBytes(n);
                await response.Body.WriteAsync(buffer.AsMemory(0, n), abort);
                sent += n;
                if (ChunkDelay > TimeSpan.Zero)
                {
                    await response.Body.FlushAsync(abort);
                    await Task.Delay(ChunkDelay, abort);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static bool TryRange(string header, long length, out long start, out long end, out bool unsatisfiable)
    {
        start = end = 0;
        unsatisfiable = false;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(','))
        {
            return false;
        }

        var spec = header[6..].Trim();
        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return false;
        }

        var first = spec[..dash];
        var last = spec[(dash + 1)..];
        if (first.Length == 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix) || suffix == 0 || length == 0)
            {
                unsatisfiable = true;
                return false;
            }

            start = Math.Max(0, length - suffix);
            end = length - 1;
            return true;
        }

        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out start))
        {
            return false;
        }

        end = last.Length == 0 ? length - 1
            : long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var e) ? Math.Min(e, length - 1) : -1;
        if (start >= length || end < start)
        {
            unsatisfiable = true;
            return false;
        }

        return true;
    }

    private string NewETag() => string.Create(CultureInfo.InvariantCulture, $"\"{Seed:x}-{Length:x}-{LastModified.ToUnixTimeSeconds():x}\"");
}

/// <summary>Deterministic generated content: byte i of a file with seed s is a pure function of (s, i).</summary>
public static class OriginContent
{
    private const int BlockSize = 4096;

    public static void Fill(int seed, long offset, Span<byte> destination)
    {
        Span<byte> block = stackalloc byte[BlockSize];
        var written = 0;
        while (written < destination.Length)
        {
            var position = offset + written;
            var blockIndex = position / BlockSize;
            var within = (int)(position % BlockSize);
            FillBlock(seed, blockIndex, block);
            var n = Math.Min(BlockSize - within, destination.Length - written);
            block.Slice(within, n).CopyTo(destination[written..]);
            written += n;
        }
    }

    public static byte[] Generate(int seed, long length)
    {
        var bytes = new byte[length];
        Fill(seed, 0, bytes);
        return bytes;
    }

    private static void FillBlock(int seed, long blockIndex, Span<byte> block)
    {
        // xorshift64* seeded by (seed, block): fast and stable across runs.
        var x = ((ulong)(uint)seed << 32) ^ (ulong)blockIndex ^ 0x9E3779B97F4A7C15UL;
        x = (x == 0) ? 1 : x;
        for (var i = 0; i < block.Length; i += 8)
        {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            var v = x * 0x2545F4914F6CDD1DUL;
            BitConverter.TryWriteBytes(block[i..], v);
        }
    }
}
