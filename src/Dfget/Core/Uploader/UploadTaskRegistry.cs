using System.Collections.Concurrent;

namespace Dragonfly.Dfget.Uploader;

/// <summary>One task the uploader serves: where its file lives and what the finishing client told us.</summary>
public sealed class UploadTask
{
    private long _bytesServed;
    private long _lastAccess;

    internal UploadTask(string taskFileName, string dataDir, string servicePath, long now)
    {
        TaskFileName = taskFileName;
        DataDir = dataDir;
        ServicePath = servicePath;
        _lastAccess = now;
    }

    public string TaskFileName { get; }

    public string DataDir { get; }

    /// <summary>The validated full path of <c>&lt;dataDir&gt;/&lt;taskFileName&gt;.service</c>.</summary>
    public string ServicePath { get; }

    /// <summary>The download rate (bytes/s) the client asked for on <c>/rate/</c>; 0 once finished.</summary>
    public long RequestedRate { get; internal set; }

    public bool Finished { get; internal set; }

    public string? TaskId { get; internal set; }

    public string? Cid { get; internal set; }

    public string? SuperNode { get; internal set; }

    public long BytesServed => Interlocked.Read(ref _bytesServed);

    /// <summary>Last access as a <see cref="TimeProvider.GetTimestamp"/> value.</summary>
    public long LastAccess => Interlocked.Read(ref _lastAccess);

    internal void Touch(long now) => Interlocked.Exchange(ref _lastAccess, now);

    internal void AddServed(long bytes) => Interlocked.Add(ref _bytesServed, bytes);
}

/// <summary>
/// The tasks this uploader manages, keyed by task file name, at most <see cref="Capacity"/> of them. Only files of
/// registered tasks are ever served or deleted. A task its downloading client gave up (<see cref="Withdraw"/>) is no longer
/// registered, but its name is remembered for a while (<see cref="IsWithdrawn"/>), so a peer the supernode still sends
/// here is told the file is gone (404) rather than that the name was never known.
/// </summary>
public sealed class UploadTaskRegistry
{
    private readonly ConcurrentDictionary<string, UploadTask> _tasks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _withdrawn = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly object _gate = new();

    public UploadTaskRegistry(TimeProvider time, int capacity = UploaderOptions.DefaultMaxTasks)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _time = time;
        Capacity = capacity;
    }

    public int Count => _tasks.Count;

    /// <summary>How many tasks may be registered at once; a new name beyond it is refused.</summary>
    public int Capacity { get; }

    public bool TryGet(string taskFileName, out UploadTask task) => _tasks.TryGetValue(taskFileName, out task!);

    public IReadOnlyList<UploadTask> Snapshot() => _tasks.Values.ToArray();

    /// <summary>
    /// Registers (or re-registers, with a possibly new data dir) a task; the caller validated both paths. Null when the
    /// name is new and <see cref="Capacity"/> tasks are registered already.
    /// </summary>
    public UploadTask? TryRegister(string taskFileName, string dataDir, string servicePath)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_tasks.TryGetValue(taskFileName, out var existing) && existing.DataDir == dataDir)
            {
                existing.Touch(now);
                return existing;
            }

            if (existing is null && _tasks.Count >= Capacity)
            {
                return null;
            }

            var task = new UploadTask(taskFileName, dataDir, servicePath, now);
            _withdrawn.TryRemove(taskFileName, out _);
            if (existing is not null)
            {
                task.AddServed(existing.BytesServed);
            }

            _tasks[taskFileName] = task;
            return task;
        }
    }

    /// <summary>Records the client's requested rate and returns the sum over unfinished tasks (saturating at <see cref="long.MaxValue"/>).</summary>
    public long SetRequestedRate(UploadTask? task, long rate)
    {
        lock (_gate)
        {
            if (task is not null)
            {
                task.RequestedRate = rate;
            }

            var sum = 0L;
            foreach (var t in _tasks.Values)
            {
                if (!t.Finished)
                {
                    sum = SaturatingAdd(sum, t.RequestedRate);
                }
            }

            return sum;
        }
    }

    /// <summary><paramref name="a"/> + <paramref name="b"/> for non-negative rates, <see cref="long.MaxValue"/> when it overflows.</summary>
    public static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    public void MarkFinished(UploadTask task, string taskId, string cid, string? superNode)
    {
        lock (_gate)
        {
            task.TaskId = taskId;
            task.Cid = cid;
            task.SuperNode = superNode;
            task.RequestedRate = 0;
            task.Finished = true;
            task.Touch(_time.GetTimestamp());
        }
    }

    public bool Remove(UploadTask task) => ((ICollection<KeyValuePair<string, UploadTask>>)_tasks).Remove(new(task.TaskFileName, task));

    /// <summary>
    /// Unregisters a task whose client abandoned it (its file is deleted or about to be), remembering the name as
    /// withdrawn (up to <see cref="Capacity"/> names) until <see cref="ForgetWithdrawnBefore"/> drops it. False when
    /// the task was not registered (any more).
    /// </summary>
    public bool Withdraw(UploadTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        lock (_gate)
        {
            if (!Remove(task))
            {
                return false;
            }

            if (_withdrawn.Count < Capacity)
            {
                _withdrawn[task.TaskFileName] = _time.GetTimestamp();
            }

            return true;
        }
    }

    /// <summary>Whether <paramref name="taskFileName"/> names a task its client withdrew (and that was not registered again).</summary>
    public bool IsWithdrawn(string taskFileName) => _withdrawn.ContainsKey(taskFileName);

    /// <summary>Forgets withdrawn names remembered for <paramref name="age"/> or longer; returns how many.</summary>
    public int ForgetWithdrawnBefore(TimeSpan age)
    {
        var forgotten = 0;
        foreach (var (name, since) in _withdrawn)
        {
            if (_time.GetElapsedTime(since) >= age && ((ICollection<KeyValuePair<string, long>>)_withdrawn).Remove(new(name, since)))
            {
                forgotten++;
            }
        }

        return forgotten;
    }
}
