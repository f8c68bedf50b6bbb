using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Hosting;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Tests.Support;

/// <summary>A real dfdaemon (Kestrel on 127.0.0.1:0) with its own temp work home; options and services adjustable per test.</summary>
public sealed class TestDfdaemon : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory _home;

    private TestDfdaemon(WebApplication app, TempDirectory home, DfdaemonOptions options)
    {
        _app = app;
        _home = home;
        Options = options;
        Address = app.BoundAddress();
    }

    public Uri Address { get; }

    public DfdaemonOptions Options { get; }

    /// <summary>What dfdaemon (and the in-process engine) logged, for failure messages.</summary>
    public ListLoggerProvider Logs { get; private init; } = new();

    public IServiceProvider Services => _app.Services;

    public static DfdaemonOptions DefaultOptions(string home, Uri? remote = null) => new()
    {
        Port = 0,
        WorkHome = home,
        LocalRepo = Path.Combine(home, "dfdaemon", "data"),
        RegistryMirror = new RegistryMirrorOptions { Remote = remote ?? new Uri("http://127.0.0.1:1") },
    };

    public static async Task<TestDfdaemon> StartAsync(Func<DfdaemonOptions, DfdaemonOptions>? configure = null, Action<IServiceCollection>? services = null, Uri? remote = null)
    {
        var home = new TempDirectory("dfdaemon-test-");
        var options = DefaultOptions(home.Path, remote);
        if (configure is not null)
        {
            options = configure(options);
        }

        var logs = new ListLoggerProvider();
        var app = DfdaemonHost.Build(options, services, logging => logging.SetMinimumLevel(LogLevel.Information).AddProvider(logs));
        await app.StartAsync();
        return new TestDfdaemon(app, home, options) { Logs = logs };
    }

    /// <summary>An HttpClient that talks to dfdaemon directly (mirror mode).</summary>
    public HttpClient MirrorClient() => new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None })
    {
        BaseAddress = Address,
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>An HttpClient that uses dfdaemon as its HTTP(S) proxy.</summary>
    public HttpClient ProxyClient(Action<SocketsHttpHandler>? configure = null)
    {
        var handler = new SocketsHttpHandler
        {
            Proxy = new System.Net.WebProxy(Address) { BypassProxyOnLocal = false },
            UseProxy = true,
            AllowAutoRedirect = false,
        };
        configure?.Invoke(handler);
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _home.Dispose();
    }
}
