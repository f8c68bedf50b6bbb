using System.Collections.Concurrent;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dragonfly.Dfget.Tests.Registration;

/// <summary>
/// A small supernode stand-in on real Kestrel: the legacy routes always, the v1 task routes only when <see cref="HasV1Tasks"/>
/// (an original supernode routes <c>/api/v1/peers</c> but answers a plain-text 404 to <c>POST /api/v1/tasks</c>).
/// </summary>
public sealed class FakeSupernodeServer : IAsyncDisposable
{
    public const string TaskId = "6dafc821ffe8bf28cc58d1507e9bf0a52893bbf07ccd288458225f43246f38f9";
    private readonly WebApplication _app;

    private FakeSupernodeServer(WebApplication app, bool hasV1Tasks)
    {
        _app = app;
        HasV1Tasks = hasV1Tasks;
    }

    public bool HasV1Tasks { get; }

    public int Port { get; private set; }

    /// <summary>The body of every v1 pull answer; "finished" by default.</summary>
    public string V1PullBody { get; set; } = "{\"state\":\"finished\",\"md5\":\"0123456789abcdef0123456789abcdef\",\"fileLength\":105}";

    /// <summary>Legacy code returned by <c>/peer/task</c> (601 with one supernode piece, 600, 602, 500...).</summary>
    public int PullCode { get; set; } = 601;

    /// <summary>HTTP status of the v1 pull answer (<see cref="V1PullBody"/> is its body).</summary>
    public int V1PullStatus { get; set; } = 200;

    /// <summary>When set, both pull routes answer with this HTTP status and a plain-text page, as a gateway in front would.</summary>
    public int? GatewayStatus { get; set; }

    /// <summary>When set, answers each v1 piece update (204 otherwise).</summary>
    public Func<Task<IResult>>? OnPieceUpdate { get; set; }

    /// <summary>When set, <c>/peer/service/down</c> never answers (the request is recorded first), as a supernode that hangs.</summary>
    public bool ServiceDownHangs { get; set; }

    /// <summary>Every request: method, path, raw query, body.</summary>
    public ConcurrentQueue<(string Method, string Path, string Query, string Body)> Requests { get; } = new();

    public static async Task<FakeSupernodeServer> StartAsync(bool hasV1Tasks, int port = 0)
    {
        var app = LoopbackWebApp.Build(port);
        var server = new FakeSupernodeServer(app, hasV1Tasks);
        app.Use(async (context, next) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            server.Requests.Enqueue((context.Request.Method, context.Request.Path.Value ?? string.Empty, context.Request.QueryString.Value ?? string.Empty, body));
            await next(context);
        });
        app.MapPost("/api/v1/peers", () => Results.Text("{\"ID\":\"host-127.0.0.1-1\"}", "application/json", statusCode: 201));
        if (hasV1Tasks)
        {
            app.MapPost("/api/v1/tasks", () => Results.Text($"{{\"ID\":\"{TaskId}\",\"fileLength\":100,\"pieceSize\":4194304,\"cdnSource\":\"supernode\"}}", "application/json", statusCode: 201));
            app.MapGet("/api/v1/tasks/{id}/pieces", () => server.GatewayStatus is { } gateway
                ? Results.Text("<html>bad gateway</html>", "text/html", statusCode: gateway)
                : Results.Text(server.V1PullBody, "application/json", statusCode: server.V1PullStatus));
            app.MapPut("/api/v1/tasks/{id}/pieces/{range}", () => server.OnPieceUpdate?.Invoke() ?? Task.FromResult(Results.NoContent()));
        }

        app.MapPost("/peer/registry", () => Results.Text(
            $"{{\"code\":200,\"msg\":\"success\",\"data\":{{\"taskId\":\"{TaskId}\",\"fileLength\":100,\"pieceSize\":4194304,\"cdnSource\":\"supernode\",\"asSeed\":false,\"seedTaskID\":\"\"}}}}",
            "application/json"));
        app.MapGet("/peer/task", () => server.GatewayStatus is { } gateway ? Results.Text("<html>bad gateway</html>", "text/html", statusCode: gateway) : server.PullCode switch
        {
            601 => Results.Text(
                $"{{\"code\":601,\"msg\":\"peer task go on\",\"data\":[{{\"range\":\"0-4194303\",\"pieceNum\":0,\"pieceSize\":4194304,\"pieceMd5\":\"0123456789abcdef0123456789abcdef:105\",\"cid\":\"cdnnode:127.0.0.1~{TaskId}\",\"peerIp\":\"127.0.0.1\",\"peerPort\":8001,\"path\":\"/download/6da/{TaskId}\",\"downLink\":0}}]}}",
                "application/json"),
            600 => Results.Text("{\"code\":600,\"msg\":\"peer task end\",\"data\":{\"md5\":\"0123456789abcdef0123456789abcdef\",\"fileLength\":105}}", "application/json"),
            602 => Results.Text("{\"code\":602,\"msg\":\"peer task wait\"}", "application/json"),
            var code => Results.Text($"{{\"code\":{code},\"msg\":\"failed\"}}", "application/json"),
        });
        app.MapGet("/peer/piece/suc", () => Results.Text("{\"code\":611}", "application/json"));
        app.MapGet("/peer/piece/error", () => Results.Empty);
        app.MapGet("/peer/service/down", async (HttpContext context) =>
        {
            if (server.ServiceDownHangs)
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }

            return Results.Text("{\"code\":612}", "application/json");
        });
        app.MapPost("/task/metrics", () => Results.Text("null", "application/json"));
        server.Port = await LoopbackWebApp.StartAsync(app);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
