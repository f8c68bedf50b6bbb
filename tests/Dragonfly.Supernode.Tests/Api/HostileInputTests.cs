using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dragonfly.Supernode.Api;
using Dragonfly.Supernode.Tests.EndToEnd;
using Dragonfly.TestCommon;
using Dragonfly.TestCommon.Fuzzing;
using Microsoft.Extensions.Logging;
using static Dragonfly.Supernode.Tests.Api.ApiTestExtensions;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>
/// Seeded random hostile input against the real supernode on loopback sockets: every route of <see cref="SupernodeRoutes.All"/>
/// at each of its mounts with hostile ids, query values and bodies, and mutated request heads on the download port. Nothing
/// may end in an unexpected exception (an <c>Error</c> log line), a v1 route may not answer 5xx, and the supernode must
/// still serve a real download afterwards; and requests built from hostile parts on raw connections to both ports
/// (<see cref="ServerFuzz"/>). A failure names the seed, the case and the request, so it can be replayed.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class HostileInputTests
{
    private const int ApiRequests = 2000;
    private const int DownloadPortConnections = 300;

    [Fact]
    public async Task ApiRoutes_SeededHostileRequests_NeverCrashAndTheSupernodeKeepsServing()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var logs = new ListLoggerProvider(LogLevel.Error);
        await using var origin = await OriginServer.StartAsync(timeout.Token);
        origin.AddFile("/real.bin", 10_000, seed: 3);
        await using var host = await SupernodeTestHost.StartAsync(cancellationToken: timeout.Token, logs: logs);
        using var client = new HttpClient { BaseAddress = host.Api, Timeout = TimeSpan.FromSeconds(30) };
        var known = await RegisterAsync(client, origin.Url("/real.bin"), "real", timeout.Token);
        var requests = new HostileRequests(origin.Url("/real.bin"), known);

        await Fuzzer.RunAsync(ApiRequests, async c =>
        {
            if (c.Index % 50 == 49)
            {
                // The barrage deletes peers and tasks now and then: register again so that ids keep reaching past lookups.
                requests.Known = await RegisterAsync(client, origin.Url("/real.bin"), "real", c.CancellationToken);
            }

            var (route, request) = requests.Next(c.Random);
            using (request)
            {
                c.Input = $"{request.Method} {request.RequestUri} {(request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(c.CancellationToken))}";
                using var response = await client.SendAsync(request, c.CancellationToken);
                var text = await response.Content.ReadAsStringAsync(c.CancellationToken);
                if ((int)response.StatusCode >= 500 && route.Category == ApiCategory.V1)
                {
                    throw new InvalidOperationException($"the v1 surface answers bad input with 4xx, not {(int)response.StatusCode} {text}");
                }
            }
        });

        logs.Lines.Take(5).Should().BeEmpty("hostile input is refused with a status, never met with an exception");
        (await client.GetStringAsync(new Uri("/_ping", UriKind.Relative), timeout.Token)).Should().Be("OK");
        var after = await RegisterAsync(client, origin.Url("/real.bin"), "after", timeout.Token);
        after.TaskId.Should().Be(known.TaskId, "the same URL is still the same task");
    }

    [Fact]
    public async Task DownloadPort_SeededMutatedHeads_AnswerAClearStatusOrCloseAndKeepServing()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var logs = new ListLoggerProvider(LogLevel.Error);
        await using var origin = await OriginServer.StartAsync(timeout.Token);
        var data = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        origin.AddFile("/real.bin", data);
        await using var host = await SupernodeTestHost.StartAsync(cancellationToken: timeout.Token, logs: logs);
        using var client = new HttpClient { BaseAddress = host.Api, Timeout = TimeSpan.FromSeconds(30) };
        var known = await RegisterAsync(client, origin.Url("/real.bin"), "real", timeout.Token);
        var path = await CdnPathAsync(client, known, timeout.Token);
        var valid = $"GET {path} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n";
        var silent = 0;

        int[] allowed = [200, 206, 400, 404, 405, 416, 431, 505];
        await Fuzzer.RunAsync(DownloadPortConnections, async c =>
        {
            var bytes = RequestMutations.Mutate(c.Random, Encoding.ASCII.GetBytes(valid));
            c.SetInput(bytes);
            if (await RawHttpResponse.StatusOfEditedRequestAsync(host.Runtime.DownloadPort, bytes, TimeSpan.FromSeconds(2), c.CancellationToken) is { } answered)
            {
                allowed.Should().Contain(answered);
            }
            else
            {
                silent++;
            }
        });

        silent.Should().BeLessThan(FuzzSettings.Current.Cases(DownloadPortConnections) / 20, "nearly every edited head is answered; a port that hung would answer none");

        logs.Lines.Take(5).Should().BeEmpty("a malformed head is answered or dropped, never met with an exception");
        using var check = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await check.ConnectAsync(new IPEndPoint(IPAddress.Loopback, host.Runtime.DownloadPort), timeout.Token);
        await using var checkStream = new NetworkStream(check);
        await checkStream.WriteAsync(Encoding.ASCII.GetBytes(valid), timeout.Token);
        var response = await RawHttpResponse.ReadAsync(checkStream, hasBody: true, timeout.Token);
        response.Status.Should().Be(206);
        response.Body[4..].Should().Equal(data[..6], "the port still serves the cached file (after its 4-byte piece head) after the barrage");
    }

    [Fact]
    public async Task ApiPort_HostileRawRequests_NoServerErrorNoExceptionAndItKeepsServing()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var logs = new ListLoggerProvider(LogLevel.Error);
        await using var origin = await OriginServer.StartAsync(timeout.Token);
        origin.AddFile("/real.bin", 10_000, seed: 3);
        await using var host = await SupernodeTestHost.StartAsync(cancellationToken: timeout.Token, logs: logs);
        using var client = new HttpClient { BaseAddress = host.Api, Timeout = TimeSpan.FromSeconds(30) };
        var known = await RegisterAsync(client, origin.Url("/real.bin"), "real", timeout.Token);
        string[] ids = [known.TaskId, known.PeerId, "x", "%2e%2e", new string('f', 64), "0-4194303"];
        var paths = SupernodeRoutes.All
            .SelectMany(r => (r.Category == ApiCategory.Legacy ? ["", "/v1.0"] : SupernodeRoutes.MountsAtRoot(r) ? ["/api/v1", "", "/v1/api/v1"] : new[] { "/api/v1" })
                .SelectMany(prefix => ids.Select(id => prefix + r.Path.Replace("{id}", id, StringComparison.Ordinal).Replace("{pieceRange}", id == known.TaskId ? "0-4194303" : id, StringComparison.Ordinal))))
            .Concat([$"/peer/task?taskId={known.TaskId}&srcCid={known.Cid}&status=700", $"/api/v1/tasks/{known.TaskId}/pieces?clientID={known.Cid}&dfgetTaskStatus=STARTED&waitMs=0"])
            .Distinct()
            .ToArray();
        var fuzz = new ServerFuzz
        {
            Port = host.Runtime.ApiPort,
            Requests = new HttpRequestFuzz(paths, ["Content-Type: application/json", "Accept: */*", "User-Agent: Go-http-client/1.1", "Content-Type: application/x-www-form-urlencoded"])
            {
                Bodies = (random, path) => random.Next(4) switch
                {
                    0 => null,
                    1 when path.Contains("registry", StringComparison.Ordinal) => $"rawUrl={Uri.EscapeDataString(origin.Url("/real.bin").ToString())}&cid={FuzzText.Hostile(random, [known.Cid], ["=", "&", "%"])}&port={FuzzText.Number(random)}&path=/peer/file/x",
                    _ => JsonFuzz.Document(random),
                },
            },
            Valid = "GET /_ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray(),
            IsValidAnswer = a => a.Status == 200 && a.Body.AsSpan().SequenceEqual("OK"u8),
            Judge = ServerJudges.SupernodeApi,
            Secrets = ServerJudges.PlantSecrets(host.HomeDir),
        };

        await fuzz.RunAsync(10);
        await fuzz.SlowClientsAsync(100, timeout.Token);
        await fuzz.CheckStillServesAsync(timeout.Token);

        logs.Lines.Take(5).Should().BeEmpty("hostile input is refused with a status, never met with an exception");
        (await RegisterAsync(client, origin.Url("/real.bin"), "after", timeout.Token)).TaskId.Should().Be(known.TaskId, "the supernode still registers clients");
    }

    [Fact]
    public async Task DownloadPort_HostileRawRequests_DocumentedStatusOnlyTheCdnFileAndItKeepsServing()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var logs = new ListLoggerProvider(LogLevel.Error);
        await using var origin = await OriginServer.StartAsync(timeout.Token);
        var data = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        origin.AddFile("/real.bin", data);
        await using var host = await SupernodeTestHost.StartAsync(cancellationToken: timeout.Token, logs: logs);
        using var client = new HttpClient { BaseAddress = host.Api, Timeout = TimeSpan.FromSeconds(30) };
        var known = await RegisterAsync(client, origin.Url("/real.bin"), "real", timeout.Token);
        var path = await CdnPathAsync(client, known, timeout.Token);
        var valid = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n");
        var fuzz = new ServerFuzz
        {
            Port = host.Runtime.DownloadPort,
            Requests = new HttpRequestFuzz([path, path.ToUpperInvariant(), path[..^1], "/download/", "/download/abc/..", "/"], ["Range: bytes=0-9", "Range: bytes=0-4194303", "Connection: keep-alive"]),
            Valid = valid,
            IsValidAnswer = a => a.Status == 206 && a.Body.Length == 10 && a.Body.AsSpan(4).SequenceEqual(data.AsSpan(0, 6)),
            Judge = ServerJudges.DownloadPort(path),
            Secrets = ServerJudges.PlantSecrets(host.HomeDir),
        };

        await fuzz.RunAsync(10);
        await fuzz.SlowClientsAsync(100, timeout.Token);
        await fuzz.CheckStillServesAsync(timeout.Token);

        logs.Lines.Take(5).Should().BeEmpty("a malformed request is answered or dropped, never met with an exception");
    }

    private sealed record Known(string TaskId, string PeerId, string Cid);

    private static async Task<Known> RegisterAsync(HttpClient client, Uri url, string name, CancellationToken cancellationToken)
    {
        var (peerStatus, peer, peerText) = await client.PostAsync("/api/v1/peers", JsonBody($$"""{"IP":"127.0.0.1","hostName":"{{name}}","port":15300}"""), cancellationToken).ReadJsonAsync();
        peerStatus.Should().Be(HttpStatusCode.Created, peerText);
        var peerId = peer.GetProperty("ID").GetString()!;
        var cid = $"127.0.0.1-{name.Length}-1.000";
        var (status, created, text) = await client.PostAsync("/api/v1/tasks", JsonBody(
            $$"""{"cID":"{{cid}}","rawURL":"{{url}}","path":"/peer/file/{{name}}","peerID":"{{peerId}}","supernodeIP":"127.0.0.1"}"""), cancellationToken).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.Created, text);
        return new Known(created.GetProperty("ID").GetString()!, peerId, cid);
    }

    /// <summary>The CDN file's download-port path, from a pull that schedules its first piece.</summary>
    private static async Task<string> CdnPathAsync(HttpClient client, Known known, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 100; i++)
        {
            var (status, pull, text) = await client.GetAsync($"/api/v1/tasks/{known.TaskId}/pieces?clientID={known.Cid}&dfgetTaskStatus=STARTED&waitMs=200", cancellationToken).ReadJsonAsync();
            status.Should().Be(HttpStatusCode.OK, text);
            if (pull.GetProperty("state").GetString() == "continue")
            {
                return pull.GetProperty("pieces")[0].GetProperty("path").GetString()!;
            }
        }

        throw new InvalidOperationException("the CDN never scheduled a piece");
    }

    /// <summary>Builds random requests for the routes of <see cref="SupernodeRoutes.All"/> from hostile parts.</summary>
    private sealed class HostileRequests(Uri realUrl, Known known)
    {
        /// <summary>The real peer and task whose ids the requests use half of the time.</summary>
        public Known Known { get; set; } = known;

        private static readonly string[] Fields =
        [
            "cID", "rawURL", "taskURL", "md5", "identifier", "path", "headers", "dfdaemon", "callSystem", "filter", "taskId",
            "fileLength", "peerID", "supernodeIP", "IP", "hostName", "port", "version", "clientID", "dstPID", "dstPid",
            "pieceStatus", "srcCid", "errorType", "realMd5", "expectedMd5", "range", "type", "url", "urls", "pieceRange",
            "peerPattern", "asSeed", "insecure", "rootCAs", "pattern", "status", "result", "cid",
        ];

        private static readonly string[] Queries =
        [
            "taskId", "cid", "srcCid", "dstCid", "dstIp", "dstIP", "range", "result", "status", "clientID", "dfgetTaskStatus",
            "pieceResult", "pieceRange", "dstPID", "dstPid", "errorType", "pageNum", "pageSize", "sortDirect", "waitMs",
            "full", "notFoundCode", "wait",
        ];

        private Random _random = new(0);

        private readonly string[] _strings =
        [
            string.Empty, " ", "..", "../../../../etc/passwd", "%2e%2e%2f%2e%2e%2fetc", "/etc/passwd", "a/b", "\\", "\0",
            "\u0001\u007f", "\u00e9\u4e2d\ud83d\ude00", new('a', 5000), "-1", "0", "0-0", "9-1", "0-4194303",
            "1-99999999999999999999", "-5-3", "SUCCESS", "FAILED", "RUNNING", "STARTED", "FILE_NOT_EXIST",
            "FILE_MD5_NOT_MATCH", "BROKEN", "ASC", "sideways", "null", "true", "127.0.0.1", "999.1.1.1", "::1", "ghost",
            "cdnnode:127.0.0.1~" + known.TaskId, known.TaskId, known.PeerId, known.Cid, known.TaskId + "x",
            realUrl.ToString(), realUrl + "?x=%zz", "http://127.0.0.1:1/none", "ftp://127.0.0.1/x", "file:///etc/passwd",
            "http://[::1", "not a url", "5", "200", "10001", "99999999",
        ];

        public (ApiRoute Route, HttpRequestMessage Request) Next(Random random)
        {
            _random = random;
            var route = SupernodeRoutes.All[_random.Next(SupernodeRoutes.All.Count)];
            var prefix = route.Category == ApiCategory.Legacy
                ? Pick("", "/v1")
                : SupernodeRoutes.MountsAtRoot(route) ? Pick("/api/v1", "", "/v1/api/v1") : Pick("/api/v1", "/v1/api/v1");
            var path = route.Path
                .Replace("{id}", _random.Next(2) == 0 ? Pick(Known.TaskId, Known.PeerId) : Segment(), StringComparison.Ordinal)
                .Replace("{pieceRange}", _random.Next(2) == 0 ? Pick("0-4194303", "0-0", "4194304-8388607") : Segment(), StringComparison.Ordinal);
            var query = _random.Next(3) switch
            {
                0 => string.Empty,
                1 when QueryTemplate(route) is { } template => "?" + NearlyValidQuery(template),
                _ => "?" + string.Join('&', Enumerable.Range(0, _random.Next(1, 6)).Select(_ => $"{Pick(Queries)}={Uri.EscapeDataString(QueryValue())}")),
            };
            var request = new HttpRequestMessage(new HttpMethod(route.Method), new Uri(prefix + path + query, UriKind.Relative));
            if (route.Method is "POST" or "PUT" || _random.Next(8) == 0)
            {
                request.Content = Body(route);
            }

            return (route, request);
        }

        private string Segment() => Uri.EscapeDataString(Pick(_strings)) is { Length: > 0 } s ? s : "x";

        private string QueryValue() => _random.Next(4) == 0 ? _random.Next(-2, 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture) : Pick(_strings);

        private HttpContent Body(ApiRoute route)
        {
            var text = _random.Next(10) switch
            {
                6 or 7 when Template(route) is { } template => NearlyValid(template),
                0 => string.Empty,
                1 => "not json {",
                2 => new string('[', 5000) + new string(']', 5000),
                3 => JsonSerializer.Serialize(Pick(_strings)),
                4 => "[1,2,3]",
                5 => Truncated(ObjectJson()),
                _ => ObjectJson(),
            };
            var content = new StringContent(text, Encoding.UTF8);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(Pick("application/json", "application/json", "text/plain", "application/x-www-form-urlencoded"));
            return content;
        }

        /// <summary>A valid body for the route, as a real client sends it, or null for routes without one.</summary>
        private Dictionary<string, string>? Template(ApiRoute route)
        {
            var dst = JsonSerializer.Serialize("cdnnode:127.0.0.1~" + Known.TaskId);
            var cid = JsonSerializer.Serialize(Known.Cid);
            var url = JsonSerializer.Serialize(realUrl.ToString());
            return (route.Method, route.Path) switch
            {
                ("POST", "/peers") => new() { ["IP"] = "\"127.0.0.1\"", ["hostName"] = "\"h\"", ["port"] = "15300", ["version"] = "\"1.0.6\"" },
                ("POST", "/tasks") => new() { ["cID"] = cid, ["rawURL"] = url, ["path"] = "\"/peer/file/x\"", ["peerID"] = JsonSerializer.Serialize(Known.PeerId), ["supernodeIP"] = "\"127.0.0.1\"" },
                ("PUT", "/tasks/{id}") => new() { ["peerID"] = JsonSerializer.Serialize(Known.PeerId) },
                ("PUT", "/tasks/{id}/pieces/{pieceRange}") => new() { ["clientID"] = cid, ["dstPID"] = dst, ["pieceStatus"] = "\"SUCCESS\"" },
                ("POST", "/tasks/{id}/pieces/{pieceRange}/error") => new() { ["srcCid"] = cid, ["dstPid"] = dst, ["errorType"] = "\"FILE_MD5_NOT_MATCH\"", ["realMd5"] = "\"x\"", ["expectedMd5"] = "\"y\"" },
                ("POST", "/preheats") => new() { ["type"] = "\"file\"", ["url"] = url },
                ("POST", "/peer/registry") => new()
                {
                    ["cID"] = cid, ["rawURL"] = url, ["taskURL"] = url, ["path"] = "\"/peer/file/x\"", ["port"] = "15300",
                    ["IP"] = "\"127.0.0.1\"", ["hostName"] = "\"h\"", ["version"] = "\"1.0.6\"", ["supernodeIP"] = "\"127.0.0.1\"",
                },
                ("POST", "/task/metrics") => new() { ["taskId"] = JsonSerializer.Serialize(Known.TaskId), ["cid"] = cid, ["success"] = "true", ["duration"] = "1.5" },
                _ => null,
            };
        }

        /// <summary>The query a real client sends on the route, or null for routes that take none.</summary>
        private Dictionary<string, string>? QueryTemplate(ApiRoute route)
        {
            var dst = "cdnnode:127.0.0.1~" + Known.TaskId;
            return (route.Method, route.Path) switch
            {
                ("GET", "/tasks/{id}/pieces") => new() { ["clientID"] = Known.Cid, ["dfgetTaskStatus"] = "RUNNING", ["pieceResult"] = "SUCCESS", ["pieceRange"] = "0-4194303", ["dstPID"] = dst, ["waitMs"] = "0" },
                ("GET", "/tasks/{id}/pieces/{pieceRange}/error") => new() { ["srcCid"] = Known.Cid, ["dstPid"] = dst, ["errorType"] = "FILE_NOT_EXIST", ["dstIP"] = "127.0.0.1" },
                ("GET", "/peers") or ("GET", "/preheats") => new() { ["pageNum"] = "0", ["pageSize"] = "10", ["sortDirect"] = "ASC" },
                ("GET", "/peer/task") => new() { ["taskId"] = Known.TaskId, ["srcCid"] = Known.Cid, ["status"] = "RUNNING", ["result"] = "SUCCESS", ["range"] = "0-4194303", ["dstCid"] = dst },
                ("GET", "/peer/piece/suc") => new() { ["taskId"] = Known.TaskId, ["cid"] = Known.Cid, ["dstCid"] = dst, ["pieceRange"] = "0-4194303" },
                ("GET", "/peer/service/down") => new() { ["taskId"] = Known.TaskId, ["cid"] = Known.Cid },
                ("GET", "/peer/piece/error") => new()
                {
                    ["taskId"] = Known.TaskId, ["range"] = "0-4194303", ["srcCid"] = Known.Cid, ["dstCid"] = dst, ["dstIp"] = "127.0.0.1",
                    ["realMd5"] = "x", ["expectedMd5"] = "y", ["errorType"] = "FILE_MD5_NOT_MATCH",
                },
                _ => null,
            };
        }

        /// <summary>The query template with one value replaced by a hostile one, or one parameter dropped or added.</summary>
        private string NearlyValidQuery(Dictionary<string, string> template) =>
            string.Join('&', MutateOne(template, Queries, QueryValue).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));

        /// <summary>The body template with one field replaced by a hostile value, dropped, or joined by another field.</summary>
        private string NearlyValid(Dictionary<string, string> template) =>
            "{" + string.Join(',', MutateOne(template, Fields, JsonValue).Select(f => $"{JsonSerializer.Serialize(f.Key)}:{f.Value}")) + "}";

        private Dictionary<string, string> MutateOne(Dictionary<string, string> template, string[] names, Func<string> value)
        {
            var keys = template.Keys.ToArray();
            switch (_random.Next(3))
            {
                case 0:
                    template[keys[_random.Next(keys.Length)]] = value();
                    break;
                case 1:
                    template.Remove(keys[_random.Next(keys.Length)]);
                    break;
                default:
                    template[Pick(names)] = value();
                    break;
            }

            return template;
        }

        private string Truncated(string json) => json[.._random.Next(json.Length)];

        private string ObjectJson()
        {
            var fields = Enumerable.Range(0, _random.Next(0, 12)).Select(_ => Pick(Fields)).Distinct();
            return "{" + string.Join(',', fields.Select(f => $"{JsonSerializer.Serialize(f)}:{JsonValue()}")) + "}";
        }

        private string JsonValue() => _random.Next(9) switch
        {
            0 => "null",
            1 => Pick("true", "false"),
            2 => Pick("-1", "0", "1.5", "1e308", "9223372036854775808", "-9223372036854775809", "65536", "15300"),
            3 => "[" + string.Join(',', Enumerable.Range(0, _random.Next(0, 4)).Select(_ => JsonSerializer.Serialize(Pick(_strings)))) + "]",
            4 => "{\"a\":" + JsonSerializer.Serialize(Pick(_strings)) + "}",
            _ => JsonSerializer.Serialize(Pick(_strings)),
        };

        private string Pick(params string[] choices) => choices[_random.Next(choices.Length)];
    }
}
