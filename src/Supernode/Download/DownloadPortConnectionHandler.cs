using Dragonfly.Common.Http1;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Metrics;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Dragonfly.Supernode.Download;

/// <summary>
/// The download port's HTTP/1.1 server: a Kestrel connection handler (<c>ListenOptions.UseConnectionHandler</c>), so
/// Kestrel still binds, accepts, counts and drains connections, while this class reads the request heads from the
/// connection's input and writes each response on its socket: the head with <c>send</c>, the file range with
/// <c>sendfile</c> (<see cref="SocketFileSender"/>). Kestrel's HTTP layer cannot send a file without copying it through
/// its response pipe, and serving pieces is most of what the supernode's CPU does in a swarm.
/// <list type="bullet">
/// <item>Requests: <see cref="RequestHeadParser"/> (strict; a bad head gets its status and the connection closes).
/// What is served: <see cref="CdnFileReplies"/>.</item>
/// <item>Keep-alive and pipelining as HTTP/1.1 says; HTTP/1.0 closes unless it asked for keep-alive.</item>
/// <item>Timeouts from Kestrel's limits: <c>KeepAliveTimeout</c> for an idle connection, <c>RequestHeadersTimeout</c> for
/// a head once its first byte came; a peer that does not take a whole <see cref="SocketFileSender.ChunkBytes"/> of a body
/// within <see cref="DownloadPortOptions.SendStallTimeout"/> is dropped.</item>
/// <item>A file that ends before the declared range (GC'd or cut while being sent) closes the connection, so the client
/// sees a short body, never a complete-looking one.</item>
/// <item>Metrics: <c>dragonfly_supernode_download_port_bytes_total</c> and the API's per-route request counters
/// (route <see cref="CdnFileReplies.Route"/>).</item>
/// </list>
/// </summary>
internal sealed class DownloadPortConnectionHandler(
    CdnFileReplies replies,
    CdnMetrics cdnMetrics,
    SupernodeApiMetrics apiMetrics,
    IOptions<KestrelServerOptions> kestrel,
    IOptions<DownloadPortOptions> options,
    TimeProvider time,
    ILogger<DownloadPortConnectionHandler> logger) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            DownloadPortLog.NoSocket(logger, connection.ConnectionId);
            return;
        }

        using var sender = new SocketFileSender(socket, options.Value.SendStallTimeout);
        try
        {
            await ServeAsync(connection, sender);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ObjectDisposedException or OperationCanceledException)
        {
            DownloadPortLog.ConnectionEnded(logger, connection.ConnectionId, e.Message);
        }
    }

    private async Task ServeAsync(ConnectionContext connection, SocketFileSender sender)
    {
        var limits = kestrel.Value.Limits;
        var reader = new RequestHeadReader(connection.Transport.Input, limits.KeepAliveTimeout, limits.RequestHeadersTimeout, time: time);
        while (true)
        {
            if (await reader.ReadAsync(connection.ConnectionClosed) is not { } head)
            {
                return;
            }

            reader.Consume();
            if (head.Status == HeadParseStatus.Invalid)
            {
                DownloadPortLog.BadRequest(logger, connection.ConnectionId, head.ErrorStatus, head.Error);
                var error = ResponseHead.Format(head.ErrorStatus, 0, false, false, null, keepAlive: false, http11: true, time.GetUtcNow());
                await sender.SendAsync(error, null, 0, 0);
                apiMetrics.RecordRequest(SupernodeApiMetrics.UnmatchedHandler, head.ErrorStatus, 0, null, 0);
                return;
            }

            var request = head.Head!;
            if (!await RespondAsync(connection, sender, request) || !request.KeepAlive)
            {
                return;
            }
        }
    }

    /// <summary>Answers one request; false when the connection must close (a send failed or went short).</summary>
    private async Task<bool> RespondAsync(ConnectionContext connection, SocketFileSender sender, RequestHead request)
    {
        var start = time.GetTimestamp();
        using var reply = await replies.DecideAsync(request, connection.ConnectionClosed);
        var head = ResponseHead.Format(reply.Status, reply.Count, reply.File is not null, reply.AcceptRanges, reply.ContentRange, request.KeepAlive, request.Http11, time.GetUtcNow());
        var sendBody = reply.File is not null && request.Method == "GET";
        var (outcome, bodyBytes) = await sender.SendAsync(head, sendBody ? reply.File : null, reply.Start, sendBody ? reply.Count : 0);
        cdnMetrics.DownloadPortBytes.Add(bodyBytes);
        apiMetrics.RecordRequest(reply.MatchedRoute ? CdnFileReplies.Route : SupernodeApiMetrics.UnmatchedHandler, reply.Status, time.GetElapsedTime(start).TotalSeconds, null, reply.Count);
        DownloadPortLog.Served(logger, request.Method, request.Path, request.Range, reply.Status, bodyBytes, outcome);
        if (outcome is SendOutcome.Sent)
        {
            return true;
        }

        // Never leave a short body looking complete: the client sees the connection end before Content-Length bytes.
        connection.Abort(new ConnectionAbortedException($"download port send ended: {outcome}"));
        return false;
    }
}

/// <summary>The download port's own limit; the others are Kestrel's (<see cref="KestrelServerLimits"/>).</summary>
public sealed class DownloadPortOptions
{
    /// <summary>The longest a reader may spend taking each 1 MiB of a body before its connection is closed: 60 s, so
    /// about 17 KB/s at least.</summary>
    public TimeSpan SendStallTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>Source-generated log messages of the download port.</summary>
internal static partial class DownloadPortLog
{
    [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeDownload + 1, Level = LogLevel.Debug, Message = "Download port: {Method} {Path} range {Range} -> {Status}, {Bytes} bytes sent ({Outcome})")]
    public static partial void Served(ILogger logger, string method, string path, string? range, int status, long bytes, SendOutcome outcome);

    [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeDownload + 2, Level = LogLevel.Debug, Message = "Download port connection {ConnectionId}: bad request, HTTP {Status}: {Reason}")]
    public static partial void BadRequest(ILogger logger, string connectionId, int status, string? reason);

    [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeDownload + 3, Level = LogLevel.Debug, Message = "Download port connection {ConnectionId} ended: {Reason}")]
    public static partial void ConnectionEnded(ILogger logger, string connectionId, string reason);

    [LoggerMessage(EventId = Common.Logging.EventIds.SupernodeDownload + 4, Level = LogLevel.Error, Message = "Download port connection {ConnectionId} has no socket; only Kestrel's socket transport is supported")]
    public static partial void NoSocket(ILogger logger, string connectionId);
}
