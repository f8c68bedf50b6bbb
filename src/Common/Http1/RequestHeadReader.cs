using System.Buffers;
using System.IO.Pipelines;

namespace Dragonfly.Common.Http1;

/// <summary>
/// Reads request heads from one connection's input for a server that answers on the raw connection. After each head
/// the caller either <see cref="Consume"/>s it (it answers the request itself) or <see cref="Release"/>s it: the input
/// is left as if this reader had never looked, so another reader (Kestrel's HTTP layer, handed the connection) reads
/// the same head again, at once.
/// <list type="bullet">
/// <item>An idle connection is given <paramref name="keepAliveTimeout"/> for the first byte of a head, and a started head
/// <paramref name="headersTimeout"/> to end (Kestrel's <c>KeepAliveTimeout</c> and <c>RequestHeadersTimeout</c>).</item>
/// <item>Heads are parsed by <see cref="RequestHeadParser"/> (with <c>CONNECT</c> when <paramref name="acceptConnect"/>);
/// its limits bound what is buffered.</item>
/// <item>Both timeouts run on <paramref name="time"/> (the system clock when not given).</item>
/// </list>
/// </summary>
public sealed class RequestHeadReader(PipeReader input, TimeSpan keepAliveTimeout, TimeSpan headersTimeout, bool acceptConnect = false, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private ReadOnlySequence<byte> _buffer;
    private long _examined;
    private long _consumed;
    private bool _pending;

    /// <summary>
    /// Waits for the next head; returns it (<see cref="HeadParseStatus.Complete"/> or <see cref="HeadParseStatus.Invalid"/>)
    /// with the input still holding it, or null when the connection closed or a timeout passed first.
    /// </summary>
    public async ValueTask<HeadParse?> ReadAsync(CancellationToken closed)
    {
        if (_pending)
        {
            throw new InvalidOperationException("the previous head was neither consumed nor released");
        }

        using var timer = new CancellationTokenSource(keepAliveTimeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed, timer.Token);
        var started = false;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }

            var buffer = result.Buffer;
            var parse = RequestHeadParser.Parse(buffer, acceptConnect);
            if (parse.Status != HeadParseStatus.Incomplete)
            {
                _buffer = buffer;
                _consumed = parse.Consumed;
                _pending = true;
                return parse;
            }

            input.AdvanceTo(buffer.GetPosition(parse.Consumed), buffer.End);
            _examined = buffer.Length - parse.Consumed;
            if (result.IsCompleted || result.IsCanceled)
            {
                return null;
            }

            if (!started && buffer.Length > parse.Consumed)
            {
                started = true;
                timer.CancelAfter(headersTimeout);
            }
        }
    }

    /// <summary>Takes the head returned by <see cref="ReadAsync"/> off the input (an invalid one: nothing).</summary>
    public void Consume()
    {
        EnsurePending();
        // Examined only up to the consumed point: a pipelined head behind it is returned by the next read at once.
        input.AdvanceTo(_buffer.GetPosition(_consumed));
        Reset();
    }

    /// <summary>
    /// Leaves the head returned by <see cref="ReadAsync"/> on the input, unexamined past what earlier reads examined, so
    /// the next reader's first read returns it without waiting for more bytes. (Kestrel's <c>Pipe</c> would accept the
    /// examined position moving back to the start; keeping it monotonic asks nothing of other readers.)
    /// </summary>
    public void Release()
    {
        EnsurePending();
        input.AdvanceTo(_buffer.Start, _buffer.GetPosition(Math.Min(_examined, _buffer.Length)));
        Reset();
    }

    private void EnsurePending()
    {
        if (!_pending)
        {
            throw new InvalidOperationException("no head is pending");
        }
    }

    private void Reset()
    {
        _buffer = default;
        _examined = 0;
        _consumed = 0;
        _pending = false;
    }
}
