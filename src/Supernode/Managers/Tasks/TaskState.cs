using Dragonfly.Common.Ids;

namespace Dragonfly.Supernode.Managers.Tasks;

/// <summary>
/// One task's mutable state. Every update is a short in-memory step under <see cref="_gate"/> (a <see cref="Lock"/>, not a
/// SemaphoreSlim, because nothing awaits while holding it); the source probe happens before the state exists.
/// </summary>
internal sealed class TaskState
{
    private readonly Lock _gate = new();
    private CdnStatus _cdnStatus = CdnStatus.Waiting;
    private long _fileLength = -1;
    private long _httpFileLength;
    private int _pieceTotal;
    private string? _realMd5;
    private long _lastAccessMs;

    public TaskState(TaskId id, TaskSpec spec, long httpFileLength, int pieceSize, int pieceTotal, DateTimeOffset now)
    {
        Id = id;
        Spec = spec;
        PieceSize = pieceSize;
        Created = now;
        _httpFileLength = httpFileLength;
        _pieceTotal = pieceTotal;
        _lastAccessMs = now.ToUnixTimeMilliseconds();
    }

    public TaskId Id { get; }

    public TaskSpec Spec { get; }

    public int PieceSize { get; }

    public DateTimeOffset Created { get; }

    public long LastAccessMs => Volatile.Read(ref _lastAccessMs);

    public void Touch(DateTimeOffset now) => Volatile.Write(ref _lastAccessMs, now.ToUnixTimeMilliseconds());

    public bool TryStartCdn()
    {
        lock (_gate)
        {
            if (_cdnStatus is CdnStatus.Waiting or CdnStatus.Failed or CdnStatus.SourceError)
            {
                _cdnStatus = CdnStatus.Running;
                return true;
            }

            return false;
        }
    }

    public void Complete(bool success, long fileLength, long sourceLength, string? realMd5)
    {
        lock (_gate)
        {
            if (!success)
            {
                _cdnStatus = CdnStatus.Failed;
                return;
            }

            _cdnStatus = CdnStatus.Success;
            _fileLength = fileLength;
            if (sourceLength >= 0)
            {
                _httpFileLength = sourceLength;
            }

            _realMd5 = realMd5;
            _pieceTotal = fileLength <= 0 ? 1 : (int)((fileLength + PieceSize - 1) / PieceSize);
        }
    }

    public TaskSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new TaskSnapshot(Id, _cdnStatus, _fileLength, _httpFileLength, PieceSize, _pieceTotal, Spec.RawUrl, Spec.TaskUrl,
                Spec.Md5, _realMd5, Spec.Identifier, Spec.Headers, Created, DateTimeOffset.FromUnixTimeMilliseconds(LastAccessMs));
        }
    }
}
