using System.Collections.Concurrent;
using Dragonfly.Dfdaemon.Downloading;

namespace Dragonfly.Dfdaemon.Tests.Support;

/// <summary>Records requests and answers with a fixed outcome.</summary>
public sealed class RecordingBlobFetcher : IBlobFetcher
{
    private readonly Func<BlobFetchRequest, Task<BlobFetchResult>> _answer;

    public RecordingBlobFetcher(Func<BlobFetchRequest, Task<BlobFetchResult>> answer) => _answer = answer;

    public ConcurrentQueue<BlobFetchRequest> Requests { get; } = new();

    public static RecordingBlobFetcher Failing(string reason = "supernode unreachable") =>
        new(_ => Task.FromResult<BlobFetchResult>(new BlobFetchResult.Failed(reason)));

    public static RecordingBlobFetcher Throwing() =>
        new(_ => Task.FromException<BlobFetchResult>(new HttpRequestException("Connection refused (127.0.0.1:1)")));

    public static RecordingBlobFetcher Serving(byte[] content, TaskCompletionSource? gate = null, int firstPart = 0) =>
        new(_ => Task.FromResult<BlobFetchResult>(new BlobFetchResult.Started(content.Length, new GatedStream(content, gate, firstPart))));

    public Task<BlobFetchResult> FetchAsync(BlobFetchRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        return _answer(request);
    }
}

/// <summary>Yields <c>firstPart</c> bytes, then waits for the gate before yielding the rest (to observe streaming).</summary>
public sealed class GatedStream : Stream
{
    private readonly byte[] _content;
    private readonly TaskCompletionSource? _gate;
    private readonly int _firstPart;
    private int _position;

    public GatedStream(byte[] content, TaskCompletionSource? gate, int firstPart)
    {
        _content = content;
        _gate = gate;
        _firstPart = firstPart;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _content.Length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_gate is not null && _position >= _firstPart)
        {
            await _gate.Task.WaitAsync(cancellationToken);
        }

        var limit = _gate is not null && _position < _firstPart ? _firstPart : _content.Length;
        var n = Math.Min(buffer.Length, limit - _position);
        n = Math.Min(n, 16 * 1024);
        _content.AsMemory(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A stand-in for the P2P engine that fetches the blob from the origin itself (with the headers dfdaemon passed) and streams it.</summary>
public sealed class OriginStreamingBlobFetcher : IBlobFetcher, IDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = true });

    public ConcurrentQueue<BlobFetchRequest> Requests { get; } = new();

    public async Task<BlobFetchResult> FetchAsync(BlobFetchRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        using var message = new HttpRequestMessage(HttpMethod.Get, request.Url);
        foreach (var header in request.Headers)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            message.Headers.TryAddWithoutValidation(header[..colon].Trim(), header[(colon + 1)..].Trim());
        }

        var response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            return new BlobFetchResult.Failed($"origin answered {(int)response.StatusCode}");
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return new BlobFetchResult.Started(response.Content.Headers.ContentLength ?? -1, stream);
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>
/// The P2P cache as clients meet it: the first fetch of a URL goes through <c>origin</c> (with that client's headers); every later
/// fetch of the same URL is served from memory whoever asks, as the supernode's CDN and the peers serve a finished task.
/// </summary>
public sealed class CachingBlobFetcher(IBlobFetcher origin) : IBlobFetcher
{
    private readonly ConcurrentDictionary<Uri, byte[]> _cache = new();

    public ConcurrentQueue<BlobFetchRequest> Requests { get; } = new();

    public async Task<BlobFetchResult> FetchAsync(BlobFetchRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (!_cache.TryGetValue(request.Url, out var bytes))
        {
            var result = await origin.FetchAsync(request, cancellationToken);
            if (result is not BlobFetchResult.Started started)
            {
                return result;
            }

            using var copy = new MemoryStream();
            await using (started.Content)
            {
                await started.Content.CopyToAsync(copy, cancellationToken);
            }

            bytes = _cache.GetOrAdd(request.Url, copy.ToArray());
        }

        return new BlobFetchResult.Started(bytes.Length, new MemoryStream(bytes, writable: false));
    }
}
