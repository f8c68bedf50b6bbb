using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dragonfly.TestCommon.Fuzzing;

/// <summary>How a hostile request is sent.</summary>
public enum SendMode
{
    /// <summary>All at once.</summary>
    Whole,

    /// <summary>In small pieces with pauses between them.</summary>
    Trickle,

    /// <summary>All at once, then the write side shut (a FIN).</summary>
    HalfClose,

    /// <summary>All at once, then the connection reset (an RST), without reading.</summary>
    Reset,
}

/// <summary>
/// The first answer on a raw connection: the status (null when the server closed, reset or stayed silent), the head as
/// text, up to <see cref="RawHttpExchange.MaxBody"/> bytes of body (by <c>Content-Length</c>, chunked, or until close),
/// whether the connection ended, and whether the body was read to its end (so the next answer on the connection starts
/// where it ends).
/// </summary>
public sealed record RawAnswer(int? Status, string Head, byte[] Body, bool Closed, bool Whole = false)
{
    public static RawAnswer Silent { get; } = new(null, string.Empty, [], false);

    public static RawAnswer Gone { get; } = new(null, string.Empty, [], true);

    /// <summary>The value of a response header (case-insensitive), or null.</summary>
    public string? Header(string name)
    {
        foreach (var line in Head.Split("\r\n").Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }

    public override string ToString() => Status is null ? (Closed ? "(closed)" : "(silent)") : $"{Head.Split("\r\n")[0]} + {Body.Length} body bytes";
}

/// <summary>Sends raw request bytes on a new loopback connection and reads what comes back, never longer than asked.</summary>
public static class RawHttpExchange
{
    public const int MaxBody = 1 << 20;

    /// <summary>How long a body is read after its head.</summary>
    public static readonly TimeSpan BodyWait = TimeSpan.FromMilliseconds(500);

    private const int MaxHead = 64 * 1024;

    /// <summary>
    /// Sends <paramref name="request"/> to 127.0.0.1:<paramref name="port"/> as <paramref name="mode"/> says and reads the
    /// first answer within <paramref name="wait"/>; then, when <paramref name="followUp"/> is given and the connection is
    /// still open, sends it on the same connection and reads its answer too (null when it was not sent).
    /// </summary>
    public static async Task<(RawAnswer First, RawAnswer? FollowUp)> SendAsync(
        int port, byte[] request, SendMode mode, TimeSpan wait, Random random, byte[]? followUp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(random);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var isHead = request.AsSpan().StartsWith("HEAD "u8);
        try
        {
            if (mode == SendMode.Trickle)
            {
                for (var at = 0; at < request.Length;)
                {
                    var n = Math.Min(request.Length - at, random.Next(1, 200));
                    await stream.WriteAsync(request.AsMemory(at, n), cancellationToken);
                    at += n;
                    await Task.Delay(random.Next(0, 4), cancellationToken);
                }
            }
            else
            {
                await stream.WriteAsync(request, cancellationToken);
            }

            if (mode == SendMode.Reset)
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
                return (RawAnswer.Gone, null);
            }

            if (mode == SendMode.HalfClose)
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The server may close while a long request is still being written (after answering 431, say).
        }

        var first = await ReadAnswerAsync(stream, isHead, wait, cancellationToken);
        if (followUp is null || first.Status is null || first.Closed || !first.Whole || mode != SendMode.Whole)
        {
            return (first, null);
        }

        try
        {
            await stream.WriteAsync(followUp, cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return (first, RawAnswer.Gone);
        }

        return (first, await ReadAnswerAsync(stream, followUp.AsSpan().StartsWith("HEAD "u8), wait, cancellationToken));
    }

    /// <summary>
    /// Reads one answer: its head within <paramref name="wait"/> (a silent server gives <see cref="RawAnswer.Silent"/>), then
    /// its body for at most <see cref="BodyWait"/> more (what arrived by then: a tunnel or a stream has no end to wait for).
    /// </summary>
    public static async Task<RawAnswer> ReadAnswerAsync(Stream stream, bool isHead, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var within = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        within.CancelAfter(wait);
        var reader = new BufferedReader(stream, within.Token);
        RawAnswer? answer = null;
        try
        {
            var head = await reader.ReadHeadAsync();
            if (head is null)
            {
                return RawAnswer.Gone;
            }

            answer = new RawAnswer(ParseStatus(head), head, [], false);
            if (isHead || answer.Status is 204 or 304 || answer.Status < 200)
            {
                return answer with { Whole = true };
            }

            within.CancelAfter(BodyWait);
            if (answer.Header("Content-Length") is { } lengthText && long.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                var body = await reader.ReadAsync((int)Math.Min(length, MaxBody));
                return answer with { Body = body, Closed = body.Length < Math.Min(length, MaxBody), Whole = body.Length == length };
            }

            if (answer.Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
            {
                var (chunked, ended) = await reader.ReadChunkedAsync();
                return answer with { Body = chunked, Whole = ended };
            }

            var rest = await reader.ReadAsync(MaxBody);
            return answer with { Body = rest, Closed = true };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && answer is not null)
        {
            return answer with { Body = reader.Taken };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return reader.SawBytes ? new RawAnswer(reader.PartialStatus, reader.PartialHead, [], false) : RawAnswer.Silent;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return reader.SawBytes ? new RawAnswer(reader.PartialStatus, reader.PartialHead, [], true) : RawAnswer.Gone;
        }
    }

    private static int? ParseStatus(string head)
    {
        var line = head.Split("\r\n")[0];
        return line.StartsWith("HTTP/1.", StringComparison.Ordinal) && line.Length >= 12 && int.TryParse(line.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status)
            ? status
            : throw new InvalidDataException($"not an HTTP/1.x status line: {line}");
    }

    /// <summary>Reads a stream through a buffer: a head up to its empty line, a count of bytes, a chunked body.</summary>
    private sealed class BufferedReader(Stream stream, CancellationToken cancellationToken)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private readonly StringBuilder _head = new();
        private readonly MemoryStream _body = new();
        private int _start;
        private int _end;

        public bool SawBytes { get; private set; }

        public string PartialHead => _head.ToString();

        public int? PartialStatus => _head.Length >= 12 && int.TryParse(_head.ToString(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : null;

        public async Task<string?> ReadHeadAsync()
        {
            while (true)
            {
                if (_start == _end && !await FillAsync())
                {
                    return _head.Length == 0 ? null : throw new EndOfStreamException($"connection closed inside a response head: {_head}");
                }

                _head.Append((char)_buffer[_start++]);
                if (_head.Length >= 4 && _head[^1] == '\n' && _head[^2] == '\r' && _head[^3] == '\n' && _head[^4] == '\r')
                {
                    return _head.ToString(0, _head.Length - 4);
                }

                if (_head.Length > MaxHead)
                {
                    throw new InvalidDataException("response head over 64 KiB");
                }
            }
        }

        /// <summary>The body bytes read so far (what a timed-out read leaves).</summary>
        public byte[] Taken => _body.ToArray();

        public async Task<byte[]> ReadAsync(int count)
        {
            var from = _body.Length;
            while (_body.Length - from < count)
            {
                if (_start == _end && !await FillAsync())
                {
                    break;
                }

                var n = (int)Math.Min(_end - _start, count - (_body.Length - from));
                _body.Write(_buffer, _start, n);
                _start += n;
            }

            return _body.ToArray()[(int)from..];
        }

        public async Task<(byte[] Body, bool Ended)> ReadChunkedAsync()
        {
            while (_body.Length < MaxBody)
            {
                var line = await ReadLineAsync();
                var size = int.Parse(line.Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    await ReadLineAsync();
                    return (Taken, true);
                }

                await ReadAsync(size);
                await ReadLineAsync();
            }

            return (Taken, false);
        }

        private async Task<string> ReadLineAsync()
        {
            var line = new StringBuilder();
            while (!line.ToString().EndsWith("\r\n", StringComparison.Ordinal))
            {
                if (_start == _end && !await FillAsync())
                {
                    throw new EndOfStreamException("connection closed inside a chunked body");
                }

                line.Append((char)_buffer[_start++]);
            }

            return line.ToString()[..^2];
        }

        private async Task<bool> FillAsync()
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken);
            SawBytes |= _end > 0;
            return _end > 0;
        }
    }
}
