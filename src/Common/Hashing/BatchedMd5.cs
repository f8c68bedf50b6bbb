using System.Threading.Tasks.Sources;

namespace Dragonfly.Common.Hashing;

/// <summary>
/// One MD5 stream hashed by an <see cref="Md5Batcher"/>, side by side with the other streams that have bytes waiting.
/// Appends are asynchronous and one at a time: the bytes must stay unchanged until the append completes (the caller can
/// write them to disk meanwhile). Create one per thing hashed (a piece, a file); not reusable after the digest is taken.
/// </summary>
public sealed class BatchedMd5 : IValueTaskSource
{
    private readonly Md5Batcher _batcher;
    private ManualResetValueTaskSourceCore<bool> _completion = new() { RunContinuationsAsynchronously = true };
    private int _appending;
    private bool _finished;

    /// <summary>The chaining state; the worker's while an append is submitted, the owner's otherwise.</summary>
    internal Md5State State = Md5State.Create();

    /// <summary>Whole blocks of the submitted append the worker has not compressed yet.</summary>
    internal ReadOnlyMemory<byte> Remaining;

    /// <summary>When the current append was submitted (<see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    internal long SubmittedAt;

    internal BatchedMd5(Md5Batcher batcher, bool leading)
    {
        _batcher = batcher;
        Leading = leading;
    }

    /// <summary>Whether rounds start as soon as this stream is ready (<see cref="Md5Batcher.CreateLeadingStream"/>).</summary>
    internal bool Leading { get; }

    /// <summary>Bytes appended so far.</summary>
    public long Length => (long)State.Length;

    /// <summary>
    /// Appends <paramref name="data"/>. The returned task completes when the bytes are hashed; until then
    /// <paramref name="data"/> must not change, and no other append or digest may start.
    /// </summary>
    /// <exception cref="InvalidOperationException">An append is still running, or the digest was taken.</exception>
    public ValueTask AppendAsync(ReadOnlyMemory<byte> data)
    {
        if (Interlocked.Exchange(ref _appending, 1) != 0)
        {
            throw new InvalidOperationException("An append is still running on this md5 stream.");
        }

        try
        {
            ThrowIfFinished();
            var blocks = data[State.TakeWholeBlocks(data.Span)];
            if (blocks.Length >= Md5Batcher.InlineBytes)
            {
                _completion.Reset();
                Remaining = blocks;
                SubmittedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                if (_batcher.TrySubmit(this))
                {
                    return new ValueTask(this, _completion.Version);
                }

                Remaining = ReadOnlyMemory<byte>.Empty;
            }

            // Short, or the batcher is gone: hashed here.
            if (!blocks.IsEmpty)
            {
                Md5Scalar.Compress(ref State, blocks.Span, blocks.Length / Md5State.BlockSize);
            }

            Volatile.Write(ref _appending, 0);
            return ValueTask.CompletedTask;
        }
        catch
        {
            Volatile.Write(ref _appending, 0);
            throw;
        }
    }

    /// <summary>Writes the digest (16 bytes) of everything appended to <paramref name="destination"/>; the stream is done after.</summary>
    public void GetHash(Span<byte> destination)
    {
        if (Volatile.Read(ref _appending) != 0)
        {
            throw new InvalidOperationException("An append is still running on this md5 stream.");
        }

        ThrowIfFinished();
        _finished = true;
        State.Finish(destination);
    }

    /// <summary>The digest as lower-case hex; the stream is done after.</summary>
    public string GetHashHex()
    {
        Span<byte> digest = stackalloc byte[Md5State.HashSize];
        GetHash(digest);
        return Convert.ToHexStringLower(digest);
    }

    void IValueTaskSource.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    /// <summary>Called by the worker when <see cref="Remaining"/> is empty.</summary>
    internal void Complete()
    {
        Volatile.Write(ref _appending, 0);
        _completion.SetResult(true);
    }

    private void ThrowIfFinished()
    {
        if (_finished)
        {
            throw new InvalidOperationException("The digest of this md5 stream was already taken.");
        }
    }
}
