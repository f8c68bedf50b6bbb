using Dragonfly.Common.Http1;
using Dragonfly.Common.Pieces;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// Sends one piece, on Kestrel's HTTP layer (<see cref="SendAsync(HttpContext, UploadTask, PieceRequest)"/>) or on a raw
/// connection with <c>sendfile</c> (<see cref="PieceConnectionMiddleware"/>): 206 with the exact Content-Length, then
/// (unless <c>cdnSource: source</c>) the 4-byte head, the content read at offsets from the raw <c>.service</c> file (no
/// shared file position), and the <c>0x7F</c> tail, framed on the fly. A failure after the status line aborts the
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

    /// <summary>Sends one resolved piece (<see cref="PieceRequestResolver"/>) as the response of an ASP.NET Core request
    /// (Kestrel's HTTP layer). The caller owns <see cref="PiecePlan.Handle"/>.</summary>
    public async Task SendAsync(HttpContext context, UploadTask task, PieceRequest piece, PiecePlan plan)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(task);
        var handle = plan.Handle ?? throw new ArgumentException("the plan has no open file", nameof(plan));
        var cancellationToken = context.RequestAborted;
        task.Touch(_time.GetTimestamp());
        context.Response.StatusCode = StatusCodes.Status206PartialContent;
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = plan.BodyLength;

        long sent = 0;
        var complete = false;
        try
        {
            sent = await WriteBodyAsync(context, handle, piece, plan.RawOffset, plan.ContentLength, cancellationToken).ConfigureAwait(false);
            complete = sent == plan.BodyLength;
            if (!complete)
            {
                Log.ShortBody(_logger, task.TaskFileName, sent, plan.BodyLength);
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

    /// <summary>
    /// Sends one resolved piece as a whole response on a raw connection: the response head and the frame head with
    /// <c>send</c>, the content with <c>sendfile</c> in chunks paced by the host upload limit, then the frame tail.
    /// Returns how the send ended; on anything but <see cref="SendOutcome.Sent"/> the caller must close the connection.
    /// The caller owns <see cref="PiecePlan.Handle"/>.
    /// </summary>
    public async Task<SendOutcome> SendAsync(SocketFileSender socket, UploadTask task, PieceRequest piece, PiecePlan plan, bool keepAlive, bool http11, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(task);
        var handle = plan.Handle ?? throw new ArgumentException("the plan has no open file", nameof(plan));

        task.Touch(_time.GetTimestamp());
        var responseHead = ResponseHead.Format(StatusCodes.Status206PartialContent, plan.BodyLength, true, false, null, keepAlive, http11, _time.GetUtcNow());
        var head = responseHead;
        byte[] trailer = [];
        if (!piece.SourcePattern)
        {
            head = new byte[responseHead.Length + PieceFrame.HeadLength];
            responseHead.CopyTo(head, 0);
            PieceFrame.WriteHead(head.AsSpan(responseHead.Length), plan.ContentLength, piece.PieceSize);
            trailer = [PieceFrame.Tail];
        }

        var chunk = _limiter.BytesPerSecond == 0 ? SocketFileSender.ChunkBytes : _limiter.ChunkSize;
        var (outcome, fileBytes) = await socket.SendAsync(
            head, handle, plan.RawOffset, plan.ContentLength, trailer, chunk, bytes => _limiter.AcquireAsync(bytes, cancellationToken)).ConfigureAwait(false);
        var complete = outcome == SendOutcome.Sent;
        var sent = complete ? plan.BodyLength : fileBytes + (piece.SourcePattern || fileBytes == 0 ? 0 : PieceFrame.HeadLength);
        task.AddServed(sent);
        _metrics.Served(task.TaskFileName, sent, complete);
        if (outcome is SendOutcome.FileShort or SendOutcome.Stalled)
        {
            Log.ShortBody(_logger, task.TaskFileName, sent, plan.BodyLength);
        }

        return outcome;
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
        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 11, Level = LogLevel.Warning, Message = "Upload of task {TaskFileName} sent {Sent} of {Expected} bytes; connection aborted")]
        public static partial void ShortBody(ILogger logger, string taskFileName, long sent, long expected);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 12, Level = LogLevel.Warning, Message = "Upload of piece {PieceNum} of task {TaskFileName} failed; connection aborted")]
        public static partial void SendFailed(ILogger logger, string taskFileName, int pieceNum, Exception exception);
    }
}
