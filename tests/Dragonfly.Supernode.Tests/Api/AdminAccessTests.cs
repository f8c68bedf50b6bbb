using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dragonfly.Supernode.Admin;
using Dragonfly.Supernode.Api;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static Dragonfly.Supernode.Tests.Api.ApiTestExtensions;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>
/// A supernode whose supernode.yml names an admin token file (the views stay open). A request's client address is the
/// <see cref="ClientHeader"/> it sends (TestServer connections have none), so tests can speak for several clients.
/// </summary>
public class AdminTokenApiFactory : SupernodeApiFactory
{
    public const string Token = "test-admin-token-0123456789abcdef";

    /// <summary>The request header whose value becomes the connection's remote address.</summary>
    public const string ClientHeader = "X-Test-Client";

    /// <summary>
    /// <c>adminMaxFailures</c>: 0 (no lockouts) here, since the access tests send many wrong tokens from one client;
    /// lockouts are <see cref="AdminLockoutTests"/>' subject.
    /// </summary>
    protected virtual int MaxFailures => 0;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IStartupFilter, ClientFromHeader>());
    }

    protected override string ExtraConfig(string home)
    {
        var file = Path.Combine(home, "admin.token");
        File.WriteAllText(file, Token + "\n");
        return $"  adminTokenFile: {file}\n  adminMaxFailures: {MaxFailures}\n";
    }

    private sealed class ClientFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (IPAddress.TryParse(context.Request.Headers[ClientHeader].ToString(), out var client))
                {
                    context.Connection.RemoteIpAddress = client;
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

/// <summary>A supernode with an admin token that also guards the read-only views (<c>adminProtectReads</c>).</summary>
public sealed class AdminViewsApiFactory : AdminTokenApiFactory
{
    protected override string ExtraConfig(string home) => base.ExtraConfig(home) + "  adminProtectReads: true\n";
}

/// <summary>
/// The admin token over the real route table and Program: which routes it guards (a decision for every route of the table,
/// checked here against the list of routes clients call), at every mount point; 401/403/2xx on each guarded route; every
/// client route reachable without credentials; the token never in the log.
/// </summary>
public sealed class AdminAccessTests(AdminTokenApiFactory factory) : IClassFixture<AdminTokenApiFactory>, IAsyncLifetime
{
    /// <summary>
    /// Every route a client calls without credentials: our dfget and dfdaemon's engine (v1, with the legacy routes as the
    /// fallback for an original supernode) and an unmodified original dfget (legacy). Nothing else may be an open write.
    /// </summary>
    internal static readonly HashSet<(string Method, string Path)> ClientRoutes =
    [
        ("POST", "/peer/registry"), ("GET", "/peer/task"), ("GET", "/peer/piece/suc"), ("GET", "/peer/service/down"),
        ("GET", "/peer/piece/error"), ("POST", "/task/metrics"), ("POST", "/peer/heartbeat"), ("POST", "/peer/network"),
        ("POST", "/api/v1/peers"), ("POST", "/api/v1/tasks"), ("GET", "/api/v1/tasks/{id}/pieces"),
        ("PUT", "/api/v1/tasks/{id}/pieces/{pieceRange}"), ("POST", "/api/v1/tasks/{id}/pieces/{pieceRange}/error"),
        ("GET", "/api/v1/tasks/{id}/pieces/{pieceRange}/error"), ("POST", "/api/v1/peer/heartbeat"), ("POST", "/api/v1/peer/network"),
    ];

    /// <summary>Health, version, metrics, the route listings and the swarm page (static HTML): open to monitoring and browsers.</summary>
    internal static readonly HashSet<(string Method, string Path)> SystemRoutes =
    [
        ("GET", "/"), ("GET", "/api/v1/"), ("GET", "/_ping"), ("GET", "/version"), ("GET", "/metrics"), ("GET", "/swarm"),
    ];

    /// <summary>The read-only management views: open unless <c>adminProtectReads</c>.</summary>
    internal static readonly HashSet<(string Method, string Path)> Views =
    [
        ("GET", "/api/v1/peers"), ("GET", "/api/v1/peers/{id}"), ("GET", "/api/v1/tasks"), ("GET", "/api/v1/tasks/{id}"),
        ("GET", "/api/v1/tasks/{id}/swarm"), ("GET", "/api/v1/preheats"), ("GET", "/api/v1/preheats/{id}"),
    ];

    private const string Realm = "Bearer realm=\"dragonfly-supernode\"";
    private readonly HttpClient _client = factory.CreateClient();
    private OriginServer _origin = null!;

    public async Task InitializeAsync()
    {
        _origin = await OriginServer.StartAsync();
        _origin.AddFile("/admin.bin", 3000, seed: 21);
    }

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    /// <summary>
    /// The decision for every route of the table: a route clients call, or a system route, is open; a read-only view is a
    /// view; anything else, whatever its method, is a management route. A route added to the table fails here until it is
    /// decided (and, if open, added to <see cref="ClientRoutes"/> with the client that calls it).
    /// </summary>
    [Fact]
    public void RouteTable_EveryRouteNoClientCallsAndNotAView_NeedsTheToken()
    {
        foreach (var route in SupernodeRoutes.All)
        {
            var key = (route.Method, route.DocumentedPath);
            var expected = ClientRoutes.Contains(key) || SystemRoutes.Contains(key) ? RouteAccess.Open
                : Views.Contains(key) ? RouteAccess.View
                : RouteAccess.Manage;
            route.Access.Should().Be(expected, $"{route.Method} {route.DocumentedPath} is {(expected == RouteAccess.Manage ? "called by no client" : "listed here")}");
        }

        SupernodeRoutes.All.Where(r => r.Access == RouteAccess.View).Should().OnlyContain(r => r.Method == "GET", "a view changes nothing");
        SupernodeRoutes.All.Where(r => r.Access == RouteAccess.Manage).Select(r => (r.Method, r.DocumentedPath)).Should().BeEquivalentTo(
            [
                ("DELETE", "/api/v1/peers/{id}"), ("PUT", "/api/v1/tasks/{id}"), ("DELETE", "/api/v1/tasks/{id}"),
                ("POST", "/api/v1/preheats"), ("DELETE", "/api/v1/preheats/{id}"),
            ]);
    }

    [Fact]
    public void MappedEndpoints_EachCarriesItsRoutesAccess()
    {
        var endpoints = Endpoints();

        endpoints.Should().NotBeEmpty();
        foreach (var (method, pattern, documented, access) in endpoints)
        {
            var route = SupernodeRoutes.All.Single(r => r.Method == method && r.DocumentedPath == documented);
            access.Should().Be(route.Access, $"{method} {pattern}");
        }
    }

    /// <summary>Every mapped endpoint (every route at every mount point), without, with a wrong and with the right token.</summary>
    [Fact]
    public async Task EveryEndpoint_AtEveryMount_GuardedExactlyByItsAccess()
    {
        var failures = new List<string>();
        foreach (var (method, pattern, _, access) in Endpoints())
        {
            var path = Concrete(pattern);
            var (bare, bareBody, bareAuth) = await SendAsync(method, path, authorization: null);
            var (wrong, wrongBody, _) = await SendAsync(method, path, "Bearer not-the-admin-token-0123456789");
            var (right, _, _) = await SendAsync(method, path, "Bearer " + AdminTokenApiFactory.Token);

            if (access == RouteAccess.Manage)
            {
                Expect(bare == HttpStatusCode.Unauthorized && bareAuth == Realm && Code(bareBody) == 401, $"{method} {path} without a token: {bare} {bareAuth} {bareBody}");
                Expect(wrong == HttpStatusCode.Forbidden && Code(wrongBody) == 403, $"{method} {path} with a wrong token: {wrong} {wrongBody}");
            }
            else
            {
                Expect(bare is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{method} {path} ({access}) without a token: {bare} {bareBody}");
                Expect(wrong is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{method} {path} ({access}) with a wrong token: {wrong}");
            }

            Expect(right is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{method} {path} with the token: {right}");
        }

        failures.Should().BeEmpty();

        void Expect(bool condition, string failure)
        {
            if (!condition)
            {
                failures.Add(failure);
            }
        }
    }

    [Theory]
    [InlineData("/api/v1/preheats")]
    [InlineData("/preheats")]
    [InlineData("/v1.0/api/v1/preheats")]
    public async Task Preheats_CreateAndDelete_NeedTheTokenWhileTheirViewsStayOpen(string prefix)
    {
        var body = $$"""{"type":"file","url":"{{_origin.Url("/admin.bin")}}","identifier":"{{prefix}}"}""";

        (await PostAsync(prefix, body, authorization: null)).Status.Should().Be(HttpStatusCode.Unauthorized);
        (await PostAsync(prefix, body, "Bearer wrong-token-0123456789abcdef")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await _client.GetStringAsync(prefix)).Should().NotContain(prefix, "a refused create starts nothing");

        var (created, id, text) = await PostAsync(prefix, body, "Bearer " + AdminTokenApiFactory.Token);
        created.Should().Be(HttpStatusCode.Created, text);
        (await _client.GetAsync($"{prefix}/{id}")).StatusCode.Should().Be(HttpStatusCode.OK, "views stay open without adminProtectReads");

        (await SendAsync("DELETE", $"{prefix}/{id}", authorization: null)).Status.Should().Be(HttpStatusCode.Unauthorized);
        (await SendAsync("DELETE", $"{prefix}/{id}", "Bearer wrong-token-0123456789abcdef")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await _client.GetAsync($"{prefix}/{id}")).StatusCode.Should().Be(HttpStatusCode.OK, "a refused delete deletes nothing");
        (await SendAsync("DELETE", $"{prefix}/{id}", "Bearer " + AdminTokenApiFactory.Token)).Status.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetAsync($"{prefix}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Peers_CreateOpen_DeleteNeedsTheToken()
    {
        var (created, peer, text) = await _client.PostAsync("/api/v1/peers", JsonBody("""{"IP":"127.0.0.1","hostName":"admin-peer","port":15300}""")).ReadJsonAsync();
        created.Should().Be(HttpStatusCode.Created, "dfget creates its peer without credentials: " + text);
        var id = peer.GetProperty("ID").GetString();

        (await SendAsync("DELETE", $"/api/v1/peers/{id}", authorization: null)).Status.Should().Be(HttpStatusCode.Unauthorized);
        (await SendAsync("DELETE", $"/peers/{id}", "Bearer wrong-token-0123456789abcdef")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await _client.GetAsync($"/api/v1/peers/{id}")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await SendAsync("DELETE", $"/api/v1/peers/{id}", "Bearer " + AdminTokenApiFactory.Token)).Status.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetAsync($"/api/v1/peers/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Tasks_RegisterAndPullOpen_UpdateAndDeleteNeedTheToken()
    {
        var (_, peer, _) = await _client.PostAsync("/api/v1/peers", JsonBody("""{"IP":"127.0.0.1","hostName":"admin-task","port":15301}""")).ReadJsonAsync();
        var (created, task, text) = await _client.PostAsync("/api/v1/tasks", JsonBody(
            $$"""{"cID":"127.0.0.1-301-1.000","rawURL":"{{_origin.Url("/admin.bin")}}","path":"/peer/file/admin-301","peerID":"{{peer.GetProperty("ID").GetString()}}"}""")).ReadJsonAsync();
        created.Should().Be(HttpStatusCode.Created, text);
        var id = task.GetProperty("ID").GetString();
        (await _client.GetAsync($"/api/v1/tasks/{id}/pieces?clientID=127.0.0.1-301-1.000&dfgetTaskStatus=STARTED")).StatusCode.Should().Be(HttpStatusCode.OK);

        (await SendAsync("PUT", $"/api/v1/tasks/{id}", authorization: null, "{}")).Status.Should().Be(HttpStatusCode.Unauthorized);
        (await SendAsync("PUT", $"/api/v1/tasks/{id}", "Bearer " + AdminTokenApiFactory.Token, "{}")).Status.Should().Be(HttpStatusCode.NoContent);
        (await SendAsync("DELETE", $"/api/v1/tasks/{id}?full=true", authorization: null)).Status.Should().Be(HttpStatusCode.Unauthorized);
        (await SendAsync("DELETE", $"/tasks/{id}?full=true", "Bearer wrong-token-0123456789abcdef")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await _client.GetAsync($"/api/v1/tasks/{id}")).StatusCode.Should().Be(HttpStatusCode.OK, "a refused delete deletes nothing");
        (await SendAsync("DELETE", $"/api/v1/tasks/{id}?full=true", "Bearer " + AdminTokenApiFactory.Token)).Status.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetAsync($"/api/v1/tasks/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    /// <summary>What an unmodified original dfget sends (its field names, no credentials) works with the token set.</summary>
    [Fact]
    public async Task LegacyDfgetProtocol_TokenSet_NeedsNoCredentials()
    {
        var url = _origin.Url("/admin.bin").ToString();
        const string cid = "127.0.0.1-302-1795238008.142";
        var (status, body, text) = await _client.PostAsync("/peer/registry", JsonBody(
            $$"""{"superNodeIp":"127.0.0.1","rawUrl":"{{url}}","taskUrl":"{{url}}","cid":"{{cid}}","ip":"127.0.0.1","hostName":"h302","port":15302,"path":"/peer/file/admin.bin-302","version":"1.0.6"}""")).ReadJsonAsync();
        status.Should().Be(HttpStatusCode.OK, text);
        body.GetProperty("code").GetInt32().Should().Be(200);
        var taskId = body.GetProperty("data").GetProperty("taskId").GetString();

        var (pullStatus, pull, pullText) = await _client.GetAsync($"/peer/task?srcCid={cid}&dstCid=&range=&result=502&status=700&taskId={taskId}").ReadJsonAsync();
        pullStatus.Should().Be(HttpStatusCode.OK, pullText);
        pull.GetProperty("code").GetInt32().Should().BeOneOf(601, 602);
        (await _client.GetAsync($"/peer/service/down?taskId={taskId}&cid={cid}")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await _client.PostAsync("/task/metrics", JsonBody($$"""{"IP":"127.0.0.1","port":15302,"taskId":"{{taskId}}","cID":"{{cid}}","callSystem":"admin","duration":1.5,"success":true,"fileLength":3000}""")))
            .StatusCode.Should().Be(HttpStatusCode.OK);
    }

    /// <summary>Each client's first refusal in a window is logged (two clients here), with its address and status.</summary>
    [Fact]
    public async Task Log_SaysTheRoutesAreProtectedAndNeverHoldsTheToken()
    {
        (await SendAsync("DELETE", "/api/v1/preheats/unknown", authorization: null, client: "192.0.2.41")).Status.Should().Be(HttpStatusCode.Unauthorized);
        (await SendAsync("DELETE", "/api/v1/preheats/unknown", "Bearer " + AdminTokenApiFactory.Token + "-wrong", client: "192.0.2.42")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await SendAsync("DELETE", "/api/v1/preheats/unknown", "Bearer " + AdminTokenApiFactory.Token)).Status.Should().Be(HttpStatusCode.NotFound);

        var log = await ReadLogAsync(factory.HomeDir);

        log.Should().Contain($"Management routes (preheats, task and peer deletion) need the admin token from file {Path.Combine(factory.HomeDir, "admin.token")}; read-only views (peers, tasks, swarm, preheats) stay open");
        log.Should().Contain("Refused DELETE /api/v1/preheats/unknown from 192.0.2.41 with HTTP 401")
            .And.Contain("Refused DELETE /api/v1/preheats/unknown from 192.0.2.42 with HTTP 403");
        log.Should().NotContain(AdminTokenApiFactory.Token);
    }

    internal static async Task<string> ReadLogAsync(string home)
    {
        var file = Path.Combine(home, "logs", "app.log");
        for (var i = 0; i < 100 && !File.Exists(file); i++)
        {
            await Task.Delay(20);
        }

        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>A request path for a route pattern: <c>{version}</c> 1.0, <c>{id}</c> an unknown task id, a piece range.</summary>
    internal static string Concrete(string pattern) => pattern
        .Replace(SupernodeRoutes.VersionPrefix, "/v1.0", StringComparison.Ordinal)
        .Replace("{id}", new string('a', 64), StringComparison.Ordinal)
        .Replace("{pieceRange}", "0-4194303", StringComparison.Ordinal) is { Length: > 0 } path ? path : "/";

    private List<(string Method, string Pattern, string Documented, RouteAccess? Access)> Endpoints() => Endpoints(factory);

    internal static List<(string Method, string Pattern, string Documented, RouteAccess? Access)> Endpoints(SupernodeApiFactory factory)
    {
        factory.CreateClient().Dispose();
        return factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<ApiRouteMetadata>() is not null)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m =>
                (m, e.RoutePattern.RawText!, e.Metadata.GetMetadata<ApiRouteMetadata>()!.DocumentedPath, e.Metadata.GetMetadata<RouteAccessMetadata>()?.Access)))
            .ToList();
    }

    private async Task<(HttpStatusCode Status, string? Id, string Text)> PostAsync(string path, string json, string? authorization)
    {
        var (status, text, _) = await SendAsync("POST", path, authorization, json);
        var id = status == HttpStatusCode.Created ? JsonDocument.Parse(text).RootElement.GetProperty("ID").GetString() : null;
        return (status, id, text);
    }

    private Task<(HttpStatusCode Status, string Text, string? WwwAuthenticate)> SendAsync(string method, string path, string? authorization, string? json = null, string? client = null) =>
        SendAsync(_client, method, path, authorization, json, client);

    /// <summary>Sends a request, as <paramref name="client"/> (<see cref="AdminTokenApiFactory.ClientHeader"/>) when given.</summary>
    internal static async Task<(HttpStatusCode Status, string Text, string? WwwAuthenticate)> SendAsync(
        HttpClient client, string method, string path, string? authorization, string? json = null, string? from = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (from is not null)
        {
            request.Headers.Add(AdminTokenApiFactory.ClientHeader, from);
        }

        if (json is not null || method is "POST" or "PUT")
        {
            request.Content = JsonBody(json ?? "{}");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text, response.Headers.WwwAuthenticate.ToString() is { Length: > 0 } w ? w : null);
    }

    internal static int? Code(string text)
    {
        try
        {
            return JsonDocument.Parse(text).RootElement.GetProperty("code").GetInt32();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>With <c>adminProtectReads</c> the views need the token too; the client and system routes still do not.</summary>
public sealed class AdminProtectedViewsTests(AdminViewsApiFactory factory) : IClassFixture<AdminViewsApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task EveryEndpoint_ViewsAndManagementNeedTheToken_OthersOpen()
    {
        var failures = new List<string>();
        foreach (var (method, pattern, _, access) in AdminAccessTests.Endpoints(factory))
        {
            var path = AdminAccessTests.Concrete(pattern);
            var (bare, text, realm) = await AdminAccessTests.SendAsync(_client, method, path, authorization: null);
            var (right, _, _) = await AdminAccessTests.SendAsync(_client, method, path, "Bearer " + AdminTokenApiFactory.Token);
            var guarded = bare == HttpStatusCode.Unauthorized && realm is not null && AdminAccessTests.Code(text) == 401;
            if (guarded != (access != RouteAccess.Open) || right is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                failures.Add($"{method} {path} ({access}): {bare} without a token, {right} with it");
            }
        }

        failures.Should().BeEmpty();
    }

    [Theory]
    [InlineData("/api/v1/tasks")]
    [InlineData("/api/v1/peers")]
    [InlineData("/preheats")]
    public async Task Views_WithTheToken_200(string path)
    {
        (await _client.GetAsync(path)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminTokenApiFactory.Token);
        (await _client.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Log_SaysTheViewsNeedTheTokenToo()
    {
        (await _client.GetAsync("/_ping")).StatusCode.Should().Be(HttpStatusCode.OK);

        (await AdminAccessTests.ReadLogAsync(factory.HomeDir)).Should().Contain("read-only views (peers, tasks, swarm, preheats) need it too");
    }
}

/// <summary>Without a token (the default, the original's behaviour) every route answers without credentials.</summary>
public sealed class AdminOpenByDefaultTests(SupernodeApiFactory factory) : IClassFixture<SupernodeApiFactory>
{
    [Fact]
    public async Task EveryEndpoint_NoTokenConfigured_NoneRefused()
    {
        using var client = factory.CreateClient();
        var refused = new List<string>();
        foreach (var (method, pattern, _, _) in AdminAccessTests.Endpoints(factory))
        {
            var path = AdminAccessTests.Concrete(pattern);
            var (status, _, _) = await AdminAccessTests.SendAsync(client, method, path, authorization: null);
            if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                refused.Add($"{method} {path}: {status}");
            }
        }

        refused.Should().BeEmpty();
        (await AdminAccessTests.ReadLogAsync(factory.HomeDir)).Should().Contain("are open to anyone who reaches the API port, as in the original supernode: set adminTokenFile to protect them");
    }
}
