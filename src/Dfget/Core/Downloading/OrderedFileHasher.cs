using System.Buffers;
using System.Collections.Concurrent;
using Dragonfly.Common.Hashing;

namespace Dragonfly.Dfget.Downloading;

/// <summary>
/// The whole-file md5 of a piece file, computed incrementally: whenever the next piece in order is on disk, it (and any
/// completed successors) are hashed; what is left at the end is hashed in one pass. The md5 runs on the shared
/// <see cref="Md5Batcher"/>, beside the pieces still arriving, while the next chunk is read.
/// </summary>
internal sealed class OrderedFileHasher : IDisposable
{
    private const int ChunkSize = 512 * 1024;
    private readonly PieceFile _file;
    private readonly BatchedMd5 _md5;
    private readonly ConcurrentDictionary<int, (long Offset, int Length)> _completed = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _nextPiece;
    private long _position;

    public OrderedFileHasher(PieceFile file, Md5Batcher md5Batcher)
    {
        _file = file;
        // Leading: each chunk is read only after the last one is hashed, so holding it for partners would cap its speed;
        // the pieces in flight join its rounds instead.
        _md5 = md5Batcher.CreateLeadingStream();
    }

    /// <summary>Bytes hashed so far (a contiguous prefix of the file).</summary>
    public long Position => Volatile.Read(ref _position);

    public async Task OnPieceWrittenAsync(int pieceNum, long offset, int length, CancellationToken cancellationToken)
    {
        _completed[pieceNum] = (offset, length);
        while (_completed.ContainsKey(Volatile.Read(ref _nextPiece)))
        {
            if (!await _gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            try
            {
                while (_completed.TryGetValue(_nextPiece, out var piece) && piece.Offset == _position)
                {
                    await HashRangeAsync(piece.Offset, piece.Length, cancellationToken).ConfigureAwait(false);
                    _completed.TryRemove(_nextPiece, out _);
                    Volatile.Write(ref _nextPiece, _nextPiece + 1);
                }

                if (_completed.TryGetValue(_nextPiece, out var stuck) && stuck.Offset != _position)
                {
                    return;
                }
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>Hashes the rest of the file up to <paramref name="length"/> and returns the md5 hex.</summary>
    public async Task<string> FinishAsync(long length, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_position > length)
            {
                throw new InvalidOperationException($"hashed {_position} bytes of a {length}-byte file");
            }

            await HashRangeAsync(_position, length - _position, cancellationToken).ConfigureAwait(false);
            return _md5.GetHashHex();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads the range in chunks into two alternating buffers: one is hashed while the next is read.</summary>
    private async Task HashRangeAsync(long offset, long length, CancellationToken cancellationToken)
    {
        byte[][] buffers = [ArrayPool<byte>.Shared.Rent(ChunkSize), ArrayPool<byte>.Shared.Rent(ChunkSize)];
        var hashing = ValueTask.CompletedTask;
        try
        {
            for (var turn = 0; length > 0; turn ^= 1)
            {
                var buffer = buffers[turn];
                var read = await _file.ReadAsync(offset, buffer.AsMemory(0, (int)Math.Min(ChunkSize, length)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"{_file.Path} ends at {offset}, {length} bytes short");
                }

                await hashing.ConfigureAwait(false);
                hashing = _md5.AppendAsync(buffer.AsMemory(0, read));
                offset += read;
                length -= read;
                _position += read;
            }
        }
        finally
        {
            await hashing.ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffers[0]);
            ArrayPool<byte>.Shared.Return(buffers[1]);
        }
    }

    public void Dispose()
    {
        _gate.Dispose();
    }
}
