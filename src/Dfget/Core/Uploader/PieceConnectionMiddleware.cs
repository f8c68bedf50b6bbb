using Dragonfly.Common.Http1;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// The uploader's piece path: Kestrel connection middleware in front of its HTTP layer that answers
/// <c>GET /peer/file/&lt;name&gt;</c> on the raw connection, the content with <c>sendfile</c>
/// (<see cref="SocketFileSender"/>), because serving pieces is most of what an uploader's CPU does in a swarm and
/// Kestrel's HTTP layer copies every byte through its response pipe.
/// <list type="bullet">
/// <item>It serves a GET only when <see cref="PieceRequestResolver"/>, whose rules the HTTP layer applies too, finds a
/// piece it can answer whole with 206.</item>
/// <item>Anything else (another route, an error to report, a head that does not parse, a percent-encoded name) hands the
/// connection, that request included and not yet consumed, to Kestrel's HTTP layer for the rest of its life, so every
/// status and message stays the one <see cref="UploaderRequestDispatcher"/> gives. Peers keep a connection for
/// pieces, so a handed-over connection is the exception.</item>
/// <item>Keep-alive and pipelining as HTTP/1.1 says; the endpoint's keep-alive and request-head timeouts; a peer that
/// does not take a whole chunk within <see cref="SendStallTimeout"/> is dropped; a send that ends short closes the
/// connection, so no short body looks complete.</item>
/// <item>The host upload limit paces every chunk, as on the HTTP path; served bytes and pieces are counted the same.</item>
/// </list>
/// </summary>
public sealed partial class PieceConnectionMiddleware
{
    private const string FilePrefix = "/peer/file/";

    private readonly PieceRequestResolver _pieces;
    private readonly PieceSender _sender;
    private readonly ILogger _logger;

    public PieceConnectionMiddleware(PieceRequestResolver pieces, PieceSender sender, ILogger<PieceConnectionMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(logger);
        _pieces = pieces;
        _sender = sender;
        _logger = logger;
    }

    /// <summary>The longest a peer may spend taking each chunk of a piece (1 MiB, or the rate limit's 1–64 KiB) before
    /// its connection is closed. 60 s.</summary>
    public TimeSpan SendStallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// For <c>ListenOptions.Use</c>: this middleware in front of <paramref name="next"/> (Kestrel's HTTP layer), with
    /// the keep-alive and head timeouts of <paramref name="limits"/> (the endpoint's own, as the HTTP layer uses).
    /// </summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next, KestrelServerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(limits);
        return connection => OnConnectedAsync(connection, next, limits);
    }

    private async Task OnConnectedAsync(ConnectionContext connection, ConnectionDelegate next, KestrelServerLimits limits)
    {
        if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        var reader = new RequestHeadReader(connection.Transport.Input, limits.KeepAliveTimeout, limits.RequestHeadersTimeout);
        using var sender = new SocketFileSender(socket, SendStallTimeout);
        var served = 0;
        while (true)
        {
            HeadParse? parse;
            try
            {
                parse = await reader.ReadAsync(connection.ConnectionClosed).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ConnectionResetException or ObjectDisposedException)
            {
                return;
            }

            if (parse is not { } head)
            {
                return;
            }

            // Only a Ready resolution holds an open file, so a hand-over has nothing to close.
            if (head.Status != HeadParseStatus.Complete || Resolve(head.Head!) is not { Status: PieceResolutionStatus.Ready, Task: { } task } resolved)
            {
                reader.Release();
                Log.HandedOver(_logger, connection.ConnectionId, served);
                await next(connection).ConfigureAwait(false);
                return;
            }

            reader.Consume();
            var request = head.Head!;
            SendOutcome outcome;
            using (resolved.Plan.Handle)
            {
                outcome = await _sender.SendAsync(sender, task, resolved.Piece, resolved.Plan, request.KeepAlive, request.Http11, connection.ConnectionClosed).ConfigureAwait(false);
            }

            served++;
            Log.Sent(_logger, connection.ConnectionId, task.TaskFileName, resolved.Piece.PieceNum, outcome);
            if (outcome is not SendOutcome.Sent)
            {
                connection.Abort(new ConnectionAbortedException($"piece send ended: {outcome}"));
                return;
            }

            if (!request.KeepAlive)
            {
                return;
            }
        }
    }

    /// <summary>
    /// A GET of <c>/peer/file/&lt;name&gt;</c> resolved by the rules the HTTP layer uses too; null for any other request,
    /// which is that layer's to answer.
    /// </summary>
    private PieceResolution? Resolve(RequestHead request)
    {
        // Kestrel's HTTP layer decodes a percent-encoded path; this path does not, so it leaves such names to it.
        if (request.Method != "GET" || !request.Path.StartsWith(FilePrefix, StringComparison.Ordinal) || request.Path.Contains('%', StringComparison.Ordinal))
        {
            return null;
        }

        return _pieces.Resolve(request.Path[FilePrefix.Length..], request.Range, request.Field("pieceNum"), request.Field("pieceSize"), request.Field("cdnSource"));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 60, Level = LogLevel.Debug, Message = "Uploader connection {ConnectionId}: handed to the HTTP layer after {Pieces} pieces sent with sendfile")]
        public static partial void HandedOver(ILogger logger, string connectionId, int pieces);

        [LoggerMessage(EventId = Common.Logging.EventIds.DfgetUploader + 61, Level = LogLevel.Debug, Message = "Uploader connection {ConnectionId}: piece {PieceNum} of {TaskFileName} sent with sendfile: {Outcome}")]
        public static partial void Sent(ILogger logger, string connectionId, string taskFileName, int pieceNum, SendOutcome outcome);
    }
}
