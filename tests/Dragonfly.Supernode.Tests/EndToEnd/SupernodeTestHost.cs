using System.Net;
using Dragonfly.Supernode.Hosting;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Tests.EndToEnd;

/// <summary>
/// The real supernode host (the same composition as Program.cs) on real Kestrel sockets: 127.0.0.1, API and download
/// ports both 0, a temp home.
/// </summary>
internal sealed class SupernodeTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory _home;

    private SupernodeTestHost(WebApplication app, TempDirectory home, SupernodeRuntime runtime)
    {
        _app = app;
        _home = home;
        Runtime = runtime;
        Api = new Uri($"http://127.0.0.1:{runtime.ApiPort}/");
        Download = new Uri($"http://127.0.0.1:{runtime.DownloadPort}/");
    }

    public SupernodeRuntime Runtime { get; }

    public Uri Api { get; }

    public Uri Download { get; }

    public IServiceProvider Services => _app.Services;

    public string HomeDir => _home.Path;

    public static async Task<SupernodeTestHost> StartAsync(Func<SupernodeOptions, SupernodeOptions>? configure = null, CancellationToken cancellationToken = default, ILoggerProvider? logs = null)
    {
        var home = new TempDirectory("dragonfly-sn-e2e-");
        var options = new SupernodeOptions
        {
            HomeDir = home.Path,
            ListenPort = 0,
            DownloadPort = 0,
            AdvertiseIp = "127.0.0.1",
        };
        options = configure?.Invoke(options) ?? options;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = home.Path, EnvironmentName = "Development" });
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Services.AddSupernode(options, IPAddress.Loopback);
        var app = builder.Build();
        app.MapSupernodeApi();
        await app.StartAsync(cancellationToken);
        return new SupernodeTestHost(app, home, app.Services.GetRequiredService<SupernodeRuntime>());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _home.Dispose();
    }
}
