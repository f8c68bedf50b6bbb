using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Security;

namespace Dragonfly.Supernode.Preheat;

/// <summary>One preheat (file, image, or an image's layer child). Mutable state behind a lock; read through snapshots.</summary>
internal sealed class PreheatRecord
{
    private readonly Lock _lock = new();
    private PreheatStatus _status = PreheatStatus.Waiting;
    private DateTimeOffset? _startTime;
    private DateTimeOffset? _finishTime;
    private string? _errorMsg;
    private IReadOnlyList<string> _children = [];
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _claimed;

    public PreheatRecord(string id, PreheatType type, string url, string? filter, string? identifier, IReadOnlyDictionary<string, string> headers, string? parentId, DateTimeOffset created)
    {
        Id = id;
        Type = type;
        Url = url;
        Filter = filter;
        Identifier = identifier;
        Headers = headers;
        ParentId = parentId;
        _startTime = created;
    }

    public string Id { get; }

    public PreheatType Type { get; }

    public string Url { get; }

    public string? Filter { get; }

    public string? Identifier { get; }

    public IReadOnlyDictionary<string, string> Headers { get; }

    public string? ParentId { get; }

    public PreheatStatus Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    public bool IsFinished => Status is PreheatStatus.Success or PreheatStatus.Failed;

    /// <summary>Completes when the record reaches SUCCESS or FAILED.</summary>
    public Task Finished => _finished.Task;

    /// <summary>
    /// True for the one caller that is to run this record; every other user of it (a second image sharing the layer)
    /// waits for <see cref="Finished"/> instead of running it again.
    /// </summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

    public void SetRunning(DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_status == PreheatStatus.Waiting)
            {
                _status = PreheatStatus.Running;
                _startTime = now;
            }
        }
    }

    public void SetChildren(IReadOnlyList<string> children)
    {
        lock (_lock)
        {
            _children = children;
        }
    }

    /// <summary>Moves to SUCCESS or FAILED once; later calls are ignored.</summary>
    public bool Finish(bool success, string? error, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_status is PreheatStatus.Success or PreheatStatus.Failed)
            {
                return false;
            }

            _status = success ? PreheatStatus.Success : PreheatStatus.Failed;
            _errorMsg = success ? null : error;
            _finishTime = now;
        }

        _finished.TrySetResult();
        return true;
    }

    public PreheatInfo ToInfo()
    {
        lock (_lock)
        {
            return new PreheatInfo { Id = Id, Status = _status, StartTime = _startTime, FinishTime = _finishTime, ErrorMsg = _errorMsg };
        }
    }

    /// <summary>The wire form for <c>GET /api/v1/preheats</c>: credentials hidden (a layer child carries the registry's
    /// bearer token the supernode obtained), as in the task views.</summary>
    public PreheatTask ToTask()
    {
        lock (_lock)
        {
            return new PreheatTask
            {
                Id = Id,
                Url = Redact.Argument(Url),
                Type = Type,
                Filter = Filter,
                Identifier = Identifier,
                Headers = Headers.Count == 0 ? null : Redact.Headers(Headers),
                ParentId = ParentId,
                Children = _children.Count == 0 ? null : _children,
                Status = _status,
                StartTime = _startTime?.ToUnixTimeMilliseconds(),
                FinishTime = _finishTime?.ToUnixTimeMilliseconds(),
                ErrorMsg = _errorMsg,
            };
        }
    }
}
