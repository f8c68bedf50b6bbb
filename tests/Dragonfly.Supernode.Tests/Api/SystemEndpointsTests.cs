using System.Net;

namespace Dragonfly.Supernode.Tests.Api;

public sealed class SystemEndpointsTests(SupernodeApiFactory factory) : IClassFixture<SupernodeApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/_ping")]
    [InlineData("/v1.0/_ping")]
    [InlineData("/v1/_ping")]
    public async Task Ping_AnyMount_TextOk(string path)
    {
        using var response = await _client.GetAsync(path);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("OK");
    }

    [Theory]
    [InlineData("/vx/_ping")]
    [InlineData("/v1a/_ping")]
    [InlineData("/nope")]
    public async Task UnknownRoute_404(string path) =>
        (await _client.GetAsync(path)).StatusCode.Should().Be(HttpStatusCode.NotFound);

    [Fact]
    public async Task Version_Json()
    {
        var (status, body, _) = await _client.GetAsync("/version").ReadJsonAsync();

        status.Should().Be(HttpStatusCode.OK);
        body.GetProperty("Version").GetString().Should().NotBeNullOrEmpty();
        body.GetProperty("OS").GetString().Should().Be("linux");
    }

    [Fact]
    public async Task LegacyListing_ListsLegacyRoutes()
    {
        var (status, body, text) = await _client.GetAsync("/").ReadJsonAsync();

        status.Should().Be(HttpStatusCode.OK);
        text.Should().StartWith("""{"api":[{"method":"GET","path":"/"},""");
        body.GetProperty("category").GetString().Should().Be("legacy api");
        body.GetProperty("prefix").GetString().Should().BeEmpty();
        text.Should().Contain("""{"method":"POST","path":"/peer/registry"}""");
        text.Should().NotContain("/api/v1/peers");
    }

    [Theory]
    [InlineData("/api/v1/")]
    [InlineData("/v1.0/api/v1/")]
    public async Task V1Listing_ListsV1Routes(string path)
    {
        var (status, body, text) = await _client.GetAsync(path).ReadJsonAsync();

        status.Should().Be(HttpStatusCode.OK);
        body.GetProperty("category").GetString().Should().Be("v1 api");
        body.GetProperty("prefix").GetString().Should().Be("/api/v1");
        text.Should().Contain("""{"method":"GET","path":"/api/v1/tasks/{id}/pieces"}""");
    }

    [Fact]
    public async Task Metrics_PrometheusTextWithHttpCounters()
    {
        await _client.GetAsync("/_ping");

        using var response = await _client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        text.Should().Contain("# TYPE dragonfly_supernode_http_requests_total counter");
        text.Should().MatchRegex("dragonfly_supernode_http_requests_total\\{code=\"200\",handler=\"/_ping\"\\} [1-9]");
        text.Should().Contain("dragonfly_supernode_http_request_duration_seconds_bucket{handler=\"/_ping\",le=\"+Inf\"}");
        text.Should().Contain("dragonfly_supernode_build_info{");
        text.Should().NotContain("dragonfly_aspnetcore");
    }

    [Fact]
    public async Task Swagger_DocumentAndUi_Served()
    {
        using var doc = await _client.GetAsync("/swagger/swagger.yml");
        doc.StatusCode.Should().Be(HttpStatusCode.OK);
        (await doc.Content.ReadAsStringAsync()).Should().Contain("swagger: \"2.0\"");

        using var ui = await _client.GetAsync("/swagger/index.html");
        ui.StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
