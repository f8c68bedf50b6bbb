using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// Decides what a <c>/peer/file/&lt;name&gt;</c> request gets, before a byte is sent, for both ways the uploader serves
/// pieces (<see cref="UploaderRequestDispatcher"/> on Kestrel's HTTP layer, <see cref="PieceConnectionMiddleware"/> on
/// the raw connection), so one set of rules says which requests are served: a plain task-file name, valid piece headers
/// (<see cref="PieceRequest"/>), a registered task, a regular file that opens (<see cref="ServiceFileOpener"/>: never a
/// link or a FIFO) and a range that starts inside it. A request that
/// names a task counts as uploader activity.
/// </summary>
public sealed partial class PieceRequestResolver
{
    private readonly UploadTaskRegistry _tasks;
    private readonly UploaderActivity _activity;
    private readonly ILogger _logger;

    public PieceRequestResolver(UploadTaskRegistry tasks, UploaderActivity activity, ILogger<PieceRequestResolver> logger)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(activity);
        ArgumentNullException.ThrowIfNull(logger);
        _tasks = tasks;
        _activity = activity;
        _logger = logger;
    }

    /// <summary>
    /// Resolves a request for <paramref name="name"/> with its header values (null or empty when absent). When the
    /// status is <see cref="PieceResolutionStatus.Ready"/> the plan's file is open and the caller owns it.
    /// </summary>
    public PieceResolution Resolve(string name, string? range, string? pieceNum, string? pieceSize, string? cdnSource)
    {
        if (!TaskFileNames.IsValid(name))
        {
            return PieceResolution.Failed(PieceResolutionStatus.InvalidName, "invalid taskFileName");
        }

        if (!PieceRequest.TryParse(range, pieceNum, pieceSize, cdnSource, out var piece, out var error))
        {
            return PieceResolution.Failed(PieceResolutionStatus.InvalidHeaders, error);
        }

        _activity.Touch();
        if (!_tasks.TryGet(name, out var task))
        {
            if (_tasks.IsWithdrawn(name))
            {
                // Its client gave the download up and deleted the file: gone, as for a registered task without its file.
                return PieceResolution.Failed(PieceResolutionStatus.FileMissing, $"file not found: {name}");
            }

            return PieceResolution.Failed(PieceResolutionStatus.UnknownTask, $"unknown task file {name}");
        }

        var opened = ServiceFileOpener.Open(task.ServicePath);
        switch (opened.Status)
        {
            case ServiceFileOpenStatus.Missing:
                return PieceResolution.Failed(PieceResolutionStatus.FileMissing, $"file not found: {task.TaskFileName}");
            case ServiceFileOpenStatus.NotRegular:
                // A link or a FIFO someone put in the data dir: as good as missing to a peer, and worth a warning here.
                Log.NotRegular(_logger, task.TaskFileName, opened.Error);
                return PieceResolution.Failed(PieceResolutionStatus.FileMissing, $"file not found: {task.TaskFileName}");
            case ServiceFileOpenStatus.Failed:
                Log.OpenFailed(_logger, task.TaskFileName, opened.Error);
                return PieceResolution.Failed(PieceResolutionStatus.OpenFailed, "cannot open task file");
        }

        var handle = opened.Handle!;
        if (!piece.TryPlan(RandomAccess.GetLength(handle), out var rawOffset, out var contentLength))
        {
            handle.Dispose();
            return PieceResolution.Failed(PieceResolutionStatus.Unsatisfiable, "range not satisfiable");
        }

        var plan = new PiecePlan(handle, rawOffset, contentLength, piece.BodyLength(contentLength));
        return new PieceResolution(PieceResolutionStatus.Ready, string.Empty, task, piece, plan);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 10, Level = LogLevel.Warning, Message = "Cannot open the file of task {TaskFileName}: {Error}")]
        public static partial void OpenFailed(ILogger logger, string taskFileName, string error);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 13, Level = LogLevel.Warning, Message = "Refused to serve task {TaskFileName}: its file is not a regular file ({Reason})")]
        public static partial void NotRegular(ILogger logger, string taskFileName, string reason);
    }
}

/// <summary>What <see cref="PieceRequestResolver.Resolve"/> found.</summary>
public enum PieceResolutionStatus
{
    /// <summary>The piece can be sent: 206.</summary>
    Ready,

    /// <summary>The name is not a plain task-file name: 400.</summary>
    InvalidName,

    /// <summary>Range, pieceNum or pieceSize is missing or does not describe a piece: 400.</summary>
    InvalidHeaders,

    /// <summary>No task of that name is registered: 500 (the original's status).</summary>
    UnknownTask,

    /// <summary>The task's file is gone, or is not a regular file (a symbolic link, a FIFO, a device): 404.</summary>
    FileMissing,

    /// <summary>The file exists but cannot be opened: 500.</summary>
    OpenFailed,

    /// <summary>The piece starts beyond the file's end: 416.</summary>
    Unsatisfiable,
}

/// <summary>
/// The outcome of resolving a piece request: on <see cref="PieceResolutionStatus.Ready"/> the task, the parsed request
/// and the plan to send; otherwise the text the HTTP layer answers with.
/// </summary>
public readonly record struct PieceResolution(PieceResolutionStatus Status, string Error, UploadTask? Task, PieceRequest Piece, PiecePlan Plan)
{
    public static PieceResolution Failed(PieceResolutionStatus status, string error) => new(status, error, null, default, default);
}

/// <summary>A piece ready to send: the open file, where its content starts in it, its length and the body length.</summary>
public readonly record struct PiecePlan(SafeFileHandle? Handle, long RawOffset, int ContentLength, long BodyLength);
