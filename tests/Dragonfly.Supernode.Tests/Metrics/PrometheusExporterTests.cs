using System.Diagnostics.Metrics;
using Dragonfly.Supernode.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Supernode.Tests.Metrics;

public sealed class PrometheusExporterTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Fact]
    public void Render_CounterUpDownHistogram_PrometheusText()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        using var exporter = new PrometheusExporter(factory);
        var meter = factory.Create("Dragonfly.Supernode");
        var counter = meter.CreateCounter<long>("supernode_cdn_trigger", description: "CDN runs");
        var gauge = meter.CreateUpDownCounter<int>("dragonfly_supernode_peers_active");
        var histogram = meter.CreateHistogram<double>("dragonfly_supernode_http_request_duration_seconds", unit: "s");

        counter.Add(2, new KeyValuePair<string, object?>("pattern", "lo\"cal"));
        counter.Add(3, new KeyValuePair<string, object?>("pattern", "lo\"cal"));
        gauge.Add(5);
        gauge.Add(-2);
        histogram.Record(0.003, new KeyValuePair<string, object?>("handler", "/_ping"));
        histogram.Record(0.2, new KeyValuePair<string, object?>("handler", "/_ping"));

        var text = exporter.Render();

        text.Should().Contain("# TYPE dragonfly_supernode_cdn_trigger_total counter\n");
        text.Should().Contain("dragonfly_supernode_cdn_trigger_total{pattern=\"lo\\\"cal\"} 5\n");
        text.Should().Contain("# TYPE dragonfly_supernode_peers_active gauge\n");
        text.Should().Contain("dragonfly_supernode_peers_active 3\n");
        text.Should().Contain("# TYPE dragonfly_supernode_http_request_duration_seconds histogram\n");
        text.Should().Contain("dragonfly_supernode_http_request_duration_seconds_bucket{handler=\"/_ping\",le=\"0.005\"} 1\n");
        text.Should().Contain("dragonfly_supernode_http_request_duration_seconds_bucket{handler=\"/_ping\",le=\"0.25\"} 2\n");
        text.Should().Contain("dragonfly_supernode_http_request_duration_seconds_bucket{handler=\"/_ping\",le=\"+Inf\"} 2\n");
        text.Should().Contain("dragonfly_supernode_http_request_duration_seconds_count{handler=\"/_ping\"} 2\n");
        text.Should().Contain("dragonfly_supernode_http_request_duration_seconds_sum{handler=\"/_ping\"} 0.203\n");
    }

    [Fact]
    public void Render_OtherFactoriesAndForeignMeters_Ignored()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        using var exporter = new PrometheusExporter(factory);
        using var otherServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        otherServices.GetRequiredService<IMeterFactory>().Create("Dragonfly.Supernode").CreateCounter<long>("other_host_total").Add(1);
        factory.Create("Microsoft.AspNetCore.Hosting").CreateCounter<long>("aspnet_thing").Add(1);

        var text = exporter.Render();

        text.Should().NotContain("other_host_total").And.NotContain("aspnet_thing");
    }

    [Fact]
    public void Render_ObservableGauge_ReadAtScrape()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        using var exporter = new PrometheusExporter(factory);
        var value = 1;
        factory.Create("Dragonfly.Supernode").CreateObservableGauge("dragonfly_supernode_tasks", () => new Measurement<int>(value, new KeyValuePair<string, object?>("cdnstatus", "SUCCESS")));

        exporter.Render().Should().Contain("dragonfly_supernode_tasks{cdnstatus=\"SUCCESS\"} 1\n");
        value = 4;
        exporter.Render().Should().Contain("dragonfly_supernode_tasks{cdnstatus=\"SUCCESS\"} 4\n");
    }
}
