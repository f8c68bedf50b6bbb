using Dragonfly.Common.Pieces;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// Sends one piece: 206 with the exact Content-Length, then (unless <c>cdnSource: source</c>) the 4-byte head, the content
/// read at offsets from the raw <c>.service</c> file (no shared file position), and the <c>0x7F</c> tail — framed on the
/// fly through the response's <see cref="System.IO.Pipelines.PipeWriter"/>. A failure after the status line aborts the
/// connection, so a peer never mistakes a short body for a piece.
/// </summary>
public sealed partial class PieceSender
{
    private readonly UploadRateLimiter _limiter;
    private readonly UploaderMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public PieceSender(UploadRateLimiter limiter, UploaderMetrics metrics, TimeProvider time, ILogger<PieceSender> logger)
    {
        ArgumentNullException.ThrowIfNull(limiter);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _limiter = limiter;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    public async Task SendAsync(HttpContext context, UploadTask task, PieceRequest piece)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(task);
        var cancellationToken = context.RequestAborted;
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(task.ServicePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            await UploaderRequestDispatcher.WriteTextAsync(context, StatusCodes.Status404NotFound, $"file not found: {task.TaskFileName}").ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.OpenFailed(_logger, task.TaskFileName, e);
            await UploaderRequestDispatcher.WriteTextAsync(context, StatusCodes.Status500InternalServerError, "cannot open task file").ConfigureAwait(false);
            return;
        }

        using (handle)
        {
            var fileLength = RandomAccess.GetLength(handle);
            if (!piece.TryPlan(fileLength, out var rawOffset, out var contentLength))
            {
                await UploaderRequestDispatcher.WriteTextAsync(context, StatusCodes.Status416RangeNotSatisfiable, "range not satisfiable").ConfigureAwait(false);
                return;
            }

            task.Touch(_time.GetTimestamp());
            var bodyLength = piece.BodyLength(contentLength);
            context.Response.StatusCode = StatusCodes.Status206PartialContent;
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = bodyLength;

            long sent = 0;
            var complete = false;
            try
            {
                sent = await WriteBodyAsync(context, handle, piece, rawOffset, contentLength, cancellationToken).ConfigureAwait(false);
                complete = sent == bodyLength;
                if (!complete)
                {
                    Log.ShortBody(_logger, task.TaskFileName, sent, bodyLength);
                    context.Abort();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException or InvalidOperationException)
            {
                if (!cancellationToken.IsCancellationRequested)
                {
                    Log.SendFailed(_logger, task.TaskFileName, piece.PieceNum, e);
                }

                context.Abort();
            }
            finally
            {
                task.AddServed(sent);
                _metrics.Served(task.TaskFileName, sent, complete);
            }
        }
    }

    private async Task<long> WriteBodyAsync(HttpContext context, SafeFileHandle handle, PieceRequest piece, long rawOffset, int contentLength, CancellationToken cancellationToken)
    {
        var writer = context.Response.BodyWriter;
        long sent = 0;
        if (!piece.SourcePattern)
        {
            PieceFrame.WriteHead(writer.GetSpan(PieceFrame.HeadLength), contentLength, piece.PieceSize);
            writer.Advance(PieceFrame.HeadLength);
            sent += PieceFrame.HeadLength;
        }

        var offset = rawOffset;
        var remaining = contentLength;
        while (remaining > 0)
        {
            var chunk = Math.Min(remaining, _limiter.ChunkSize);
            await _limiter.AcquireAsync(chunk, cancellationToken).ConfigureAwait(false);
            var memory = writer.GetMemory(chunk)[..chunk];
            var read = await RandomAccess.ReadAsync(handle, memory, offset, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                // The file shrank under us: the promised length can no longer be met.
                return sent;
            }

            writer.Advance(read);
            offset += read;
            remaining -= read;
            sent += read;
            var flush = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCanceled || flush.IsCompleted)
            {
                return sent;
            }
        }

        if (!piece.SourcePattern)
        {
            writer.GetSpan(1)[0] = PieceFrame.Tail;
            writer.Advance(1);
            sent += 1;
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return sent;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 10, Level = LogLevel.Warning, Message = "Cannot open the file of task {TaskFileName}")]
        public static partial void OpenFailed(ILogger logger, string taskFileName, Exception exception);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 11, Level = LogLevel.Warning, Message = "Upload of task {TaskFileName} sent {Sent} of {Expected} bytes; connection aborted")]
        public static partial void ShortBody(ILogger logger, string taskFileName, long sent, long expected);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 12, Level = LogLevel.Warning, Message = "Upload of piece {PieceNum} of task {TaskFileName} failed; connection aborted")]
        public static partial void SendFailed(ILogger logger, string taskFileName, int pieceNum, Exception exception);
    }
}
