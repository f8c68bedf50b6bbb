using System.Text;
using System.Text.Json;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Nodes;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;
using Dragonfly.TestCommon.Fuzzing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dragonfly.Dfget.Tests.EndToEnd;

/// <summary>
/// The engine against a hostile or broken supernode on real loopback sockets: every answer (registration, pulls, piece
/// reports, the pieces themselves on its download path) is a seeded random edit of the right one, or garbage, under a
/// random status. A download must never throw; it ends either with the origin's exact bytes at <c>-o</c> (through the
/// supernode or back to the source) or with a failure and nothing at <c>-o</c>; and it leaves no temporary file beside
/// the output. A failure names the seed and the download.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class HostileSupernodeTests : IAsyncLifetime
{
    private const int Downloads = 40;
    private const string TaskId = "6dafc821ffe8bf28cc58d1507e9bf0a52893bbf07ccd288458225f43246f38f9";

    private readonly Md5Batcher _md5 = new();
    private readonly TempDirectory _dir = new();
    private readonly DfgetHttpClients _clients = new();
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromMinutes(10));
    private OriginServer _origin = null!;

    public async Task InitializeAsync() => _origin = await OriginServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _origin.DisposeAsync();
        _clients.Dispose();
        _cts.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task DownloadAsync_SeededHostileAnswers_NeverThrowAndEndWithTheRightBytesOrNothing()
    {
        var content = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 31)).ToArray();
        _origin.AddFile("/hostile.bin", content);
        var expected = Md5Hex.Of(content);
        await using var supernode = await HostileSupernode.StartAsync(new Random(0), content);
        var outcomes = new Dictionary<string, int>();

        await Fuzzer.RunAsync(Downloads, async c =>
        {
            // The supernode's answers and the download's options draw from random streams of their own.
            supernode.Random = new Random(c.Random.Next());
            var i = c.Index;
            var notBackSource = c.Random.Next(4) == 0;
            var output = _dir.Combine("out", $"d{i}", "hostile.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(output)!);
            var what = $"download {i} (notbs {notBackSource})";
            c.Input = what;
            var request = new DownloadRequest
            {
                Url = _origin.Url("/hostile.bin"),
                Output = output,
                WorkHome = new WorkHomeLayout(_dir.Combine("home")),
                Nodes = SupernodeList.Parse([$"127.0.0.1:{supernode.Port}"]),
                Pattern = DownloadPattern.Cdn,
                NotBackSource = notBackSource,
                Timeout = TimeSpan.FromSeconds(60),
                SupernodeRecovery = TimeSpan.Zero,
            };

            var result = await Engine().DownloadAsync(request, null, c.CancellationToken);

            var key = result.Success ? $"success, back-source reason {result.BackSourceReason}" : $"failed {result.ErrorCode}";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            if (result.Success)
            {
                (await Md5Hex.OfFileAsync(output, c.CancellationToken)).Should().Be(expected, $"{what}: a download that succeeds has the origin's bytes");
            }
            else
            {
                File.Exists(output).Should().BeFalse($"{what}: a failed download leaves nothing at -o ({result.Message})");
                notBackSource.Should().BeTrue($"{what}: with back-source allowed the origin is always there to fall back on ({result.Message})");
            }

            Directory.GetFiles(Path.GetDirectoryName(output)!).Where(f => f != output).Should().BeEmpty($"{what}: no temporary file is left beside the output");
        }, TimeSpan.FromSeconds(90));

        outcomes.Keys.Should().Contain(k => k.StartsWith("success", StringComparison.Ordinal), string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}")));
    }

    private DownloadOrchestrator Engine() => RealEngine.Create(_clients, _md5);

    /// <summary>
    /// Answers every supernode route (v1 and legacy) and its download path with a random edit of the right answer: a value
    /// replaced, a field dropped, the JSON cut short, plain garbage, or the right answer, under a random status.
    /// </summary>
    private sealed class HostileSupernode : IAsyncDisposable
    {
        private static readonly string[] Hostile =
        [
            "null", "true", "-1", "0", "1e308", "9223372036854775808", "\"\"", "\"../../etc/passwd\"", "\"0-0\"", "\"9-1\"",
            "\"-5-3\"", "\"zz:12\"", "[]", "{}", "\"" + new string('a', 3000) + "\"", "\"127.0.0.1\"", "\"999.1.1.1\"",
            "65536", "\"/download/../../x\"", "\"http://127.0.0.1:1/\"", "\"" + TaskId + "\"", "4194304", "1", "100",
        ];

        private readonly WebApplication _app;
        private Random _random;
        private readonly byte[] _content;
        private readonly object _gate = new();

        private HostileSupernode(WebApplication app, Random random, byte[] content)
        {
            _app = app;
            _random = random;
            _content = content;
        }

        public int Port { get; private set; }

        /// <summary>The random stream the answers draw from (each fuzz case sets its own).</summary>
        public Random Random
        {
            get => _random;
            set => _random = value;
        }

        public static async Task<HostileSupernode> StartAsync(Random random, byte[] content)
        {
            var app = LoopbackWebApp.Build();
            var server = new HostileSupernode(app, random, content);
            app.Run(server.AnswerAsync);
            server.Port = await LoopbackWebApp.StartAsync(app);
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private async Task AnswerAsync(HttpContext context)
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            var path = context.Request.Path.Value ?? string.Empty;
            int status;
            byte[] body;
            string contentType;
            lock (_gate)
            {
                (status, body) = path.StartsWith("/download/", StringComparison.Ordinal) ? Piece(context) : Json(path);
                contentType = Pick("application/json", "application/json", "application/octet-stream", "text/plain");
            }

            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }

        private (int Status, byte[] Body) Json(string path)
        {
            var pieceMd5 = $"{Md5Hex.Of(Wrapped())}:{_content.Length + 5}";
            Dictionary<string, string> valid = path switch
            {
                "/api/v1/peers" => new() { ["ID"] = "\"host-127.0.0.1-1\"" },
                "/api/v1/tasks" => new() { ["ID"] = $"\"{TaskId}\"", ["fileLength"] = $"{_content.Length + 5}", ["pieceSize"] = "4194304", ["cdnSource"] = "\"supernode\"" },
                "/peer/registry" => new() { ["code"] = "200", ["msg"] = "\"success\"", ["data"] = $"{{\"taskId\":\"{TaskId}\",\"fileLength\":{_content.Length + 5},\"pieceSize\":4194304,\"cdnSource\":\"supernode\"}}" },
                "/peer/task" => _random.Next(2) == 0
                    ? new() { ["code"] = "601", ["msg"] = "\"go on\"", ["data"] = $"[{PieceJson(pieceMd5)}]" }
                    : new() { ["code"] = "600", ["msg"] = "\"end\"", ["data"] = $"{{\"md5\":\"{Md5Hex.Of(_content)}\",\"fileLength\":{_content.Length + 5}}}" },
                _ when path.EndsWith("/pieces", StringComparison.Ordinal) => _random.Next(2) == 0
                    ? new() { ["state"] = "\"continue\"", ["pieces"] = $"[{PieceJson(pieceMd5)}]" }
                    : new() { ["state"] = "\"finished\"", ["md5"] = $"\"{Md5Hex.Of(_content)}\"", ["fileLength"] = $"{_content.Length + 5}" },
                _ => new() { ["code"] = Pick("611", "612", "200") },
            };

            // Seven in ten answers are right, so that some downloads get far enough for the later answers to matter.
            if (_random.Next(10) < 7)
            {
                return (path is "/api/v1/peers" or "/api/v1/tasks" ? 201 : 200, Encoding.UTF8.GetBytes(Object(valid)));
            }

            var text = _random.Next(4) switch
            {
                0 => "garbage {",
                1 => string.Empty,
                2 => Object(valid)[.._random.Next(Object(valid).Length)],
                _ => Object(Edited(valid)),
            };
            return (Pick(200, 200, 201, 400, 404, 500, 302), Encoding.UTF8.GetBytes(text));
        }

        private string PieceJson(string pieceMd5) =>
            Object(_random.Next(10) < 7 ? PieceFields(pieceMd5) : Edited(PieceFields(pieceMd5)));

        private Dictionary<string, string> PieceFields(string pieceMd5) =>
            new()
            {
                ["range"] = "\"0-4194303\"", ["pieceNum"] = "0", ["pieceSize"] = "4194304", ["pieceMd5"] = $"\"{pieceMd5}\"",
                ["cid"] = $"\"cdnnode:127.0.0.1~{TaskId}\"", ["peerIp"] = "\"127.0.0.1\"", ["peerPort"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["path"] = $"\"/download/6da/{TaskId}\"", ["downLink"] = "0", ["pID"] = $"\"cdnnode:127.0.0.1~{TaskId}\"", ["pieceRange"] = "\"0-4194303\"",
            };

        private (int Status, byte[] Body) Piece(HttpContext context)
        {
            var wrapped = Wrapped();
            if (_random.Next(10) < 7)
            {
                context.Response.ContentLength = wrapped.Length;
                return (206, wrapped);
            }

            var body = RequestMutations.Mutate(_random, wrapped);
            context.Response.ContentLength = _random.Next(4) == 0 ? null : body.Length;
            return (Pick(206, 206, 200, 404, 500), body);
        }

        private byte[] Wrapped()
        {
            var wrapped = new byte[_content.Length + Dragonfly.Common.Pieces.PieceFrame.Overhead];
            Dragonfly.Common.Pieces.PieceFrame.Wrap(_content, 4 * 1024 * 1024, wrapped);
            return wrapped;
        }

        /// <summary>One field's value replaced by a hostile one, one field dropped, or the object as it was.</summary>
        private Dictionary<string, string> Edited(Dictionary<string, string> fields)
        {
            var keys = fields.Keys.ToArray();
            switch (_random.Next(3))
            {
                case 0:
                    fields[keys[_random.Next(keys.Length)]] = Pick(Hostile);
                    break;
                case 1:
                    fields.Remove(keys[_random.Next(keys.Length)]);
                    break;
            }

            return fields;
        }

        private static string Object(Dictionary<string, string> fields) =>
            "{" + string.Join(',', fields.Select(f => $"{JsonSerializer.Serialize(f.Key)}:{f.Value}")) + "}";

        private T Pick<T>(params T[] choices) => choices[_random.Next(choices.Length)];
    }
}
