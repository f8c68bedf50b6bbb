using System.Collections.Concurrent;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Pieces;
using Dragonfly.Dfget.Registration;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dragonfly.Dfget.Tests.Downloading;

public enum PieceBehaviour
{
    Good,
    Corrupt,
    NotFound,
    Truncate,
    ServerError,
    BadTail,
    TrailingBytes,
}

/// <summary>A real Kestrel uploader on 127.0.0.1:0 serving wrapped pieces of <see cref="Content"/> at <c>/peer/file/{name}</c>.</summary>
public sealed class PeerPieceServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PeerPieceServer(WebApplication app, byte[] content, int pieceSize)
    {
        _app = app;
        Content = content;
        PieceSize = pieceSize;
    }

    public byte[] Content { get; }

    public int PieceSize { get; }

    public int Port { get; private set; }

    /// <summary>Behaviour per (pieceNum, attempt number starting at 1).</summary>
    public Func<int, int, PieceBehaviour> Behaviour { get; set; } = (_, _) => PieceBehaviour.Good;

    /// <summary>Delay before serving a piece, by piece number.</summary>
    public Func<int, TimeSpan> Delay { get; set; } = _ => TimeSpan.Zero;

    public ConcurrentQueue<(string Path, string Range, string PieceNum, string PieceSize, string UserAgent)> Requests { get; } = new();

    public ConcurrentDictionary<int, int> Attempts { get; } = new();

    public static async Task<PeerPieceServer> StartAsync(byte[] content, int pieceSize)
    {
        var app = LoopbackWebApp.Build();
        var server = new PeerPieceServer(app, content, pieceSize);
        app.MapGet("/peer/file/{name}", server.ServeAsync);
        server.Port = await LoopbackWebApp.StartAsync(app);
        return server;
    }

    /// <summary>The piece tasks a supernode would schedule for this content, all owned by this peer.</summary>
    public IReadOnlyList<PieceTask> Pieces(string name = "test.bin-1-1.000", string ownerId = "127.0.0.1-9-1.000")
    {
        var count = Math.Max(1, PieceLayout.PieceCount(Content.Length, PieceSize));
        var list = new List<PieceTask>();
        for (var i = 0; i < count; i++)
        {
            var wrapped = Wrap(i);
            list.Add(new PieceTask(PieceRange.ForPiece(i, PieceSize), i, PieceSize, new PieceMd5(Md5Hex.Of(wrapped), wrapped.Length), ownerId, "127.0.0.1", Port, "/peer/file/" + name));
        }

        return list;
    }

    public byte[] Wrap(int pieceNum)
    {
        var offset = (int)PieceLayout.SourceOffset(pieceNum, PieceSize);
        var length = PieceLayout.ContentLength(pieceNum, PieceSize, Content.Length);
        var wrapped = new byte[length + PieceFrame.Overhead];
        PieceFrame.Wrap(Content.AsSpan(offset, length), PieceSize, wrapped);
        return wrapped;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ServeAsync(HttpContext context, string name)
    {
        var headers = context.Request.Headers;
        Requests.Enqueue((context.Request.Path, headers.Range.ToString(), headers["pieceNum"].ToString(), headers["pieceSize"].ToString(), headers.UserAgent.ToString()));
        if (!PieceRange.TryParseHttpRange(headers.Range, out var range) || !int.TryParse(headers["pieceNum"], out var pieceNum))
        {
            context.Response.StatusCode = 400;
            return;
        }

        var attempt = Attempts.AddOrUpdate(pieceNum, 1, (_, n) => n + 1);
        var delay = Delay(pieceNum);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, context.RequestAborted);
        }

        var wrapped = Wrap(pieceNum);
        switch (Behaviour(pieceNum, attempt))
        {
            case PieceBehaviour.NotFound:
                context.Response.StatusCode = 404;
                return;
            case PieceBehaviour.ServerError:
                context.Response.StatusCode = 500;
                return;
            case PieceBehaviour.Corrupt:
                wrapped[PieceFrame.HeadLength] ^= 0xFF;
                break;
            case PieceBehaviour.BadTail:
                wrapped[^1] = 0x00;
                break;
            case PieceBehaviour.TrailingBytes:
                wrapped = [.. wrapped, 0x7F];
                break;
            case PieceBehaviour.Truncate:
                context.Response.StatusCode = 206;
                context.Response.ContentLength = wrapped.Length;
                await context.Response.Body.WriteAsync(wrapped.AsMemory(0, wrapped.Length / 2));
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
        }

        context.Response.StatusCode = 206;
        context.Response.ContentLength = wrapped.Length;
        await context.Response.Body.WriteAsync(wrapped);
    }
}
