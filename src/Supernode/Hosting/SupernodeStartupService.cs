using Dragonfly.Supernode.Admin;
using Dragonfly.Supernode.Api;
using Dragonfly.Supernode.Managers.Peers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Dragonfly.Supernode.Hosting;

/// <summary>
/// After the server has started: reads the bound ports back from <see cref="IServerAddressesFeature"/> into
/// <see cref="SupernodeRuntime"/>, and makes sure the supernode is registered as the CDN peer (advertise IP, download port),
/// recording its peer id, and logs the source address policy when there is one and whether the management routes need the
/// admin token (never the token itself). Creates the home and log directories and starts the metrics listener before anything else.
/// </summary>
internal sealed class SupernodeStartupService(
    IServer server,
    SupernodeRuntime runtime,
    IPeerMgr peers,
    Microsoft.Extensions.Options.IOptions<SupernodeOptions> options,
    Metrics.PrometheusExporter exporter,
    Origin.SourceAddressPolicy sourcePolicy,
    AdminAccessPolicy adminPolicy,
    ILogger<SupernodeStartupService> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // The exporter listens from now on: measurements made before it exists would be lost.
        GC.KeepAlive(exporter);
        Directory.CreateDirectory(Path.Combine(options.Value.HomeDir, "logs"));
        Directory.CreateDirectory(Path.Combine(options.Value.HomeDir, "repo"));
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var ports = server.Features.Get<IServerAddressesFeature>()?.Addresses
            .Select(a => Uri.TryCreate(a.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) ? uri.Port : -1)
            .Where(p => p > 0)
            .ToList() ?? [];
        if (ports.Count >= 2)
        {
            if (!ports.Contains(runtime.ApiPort))
            {
                ApiLog.PortMismatch(logger, "api", runtime.ApiPort, ports[0]);
            }

            if (!ports.Contains(runtime.DownloadPort))
            {
                ApiLog.PortMismatch(logger, "download", runtime.DownloadPort, ports[1]);
            }

            runtime.SetBoundPorts(ports.Contains(runtime.ApiPort) ? runtime.ApiPort : ports[0], ports.Contains(runtime.DownloadPort) ? runtime.DownloadPort : ports[1]);
        }

        var self = peers.Supernode ?? peers.RegisterSupernode();
        runtime.SetSupernodePeerId(self.Id);
        ApiLog.Listening(logger, runtime.ApiPort, runtime.DownloadPort, runtime.AdvertiseIp);
        ApiLog.SelfRegistered(logger, self.Id.Value);
        if (!sourcePolicy.IsUnrestricted)
        {
            ApiLog.SourcePolicy(logger, sourcePolicy.ToString());
        }

        if (adminPolicy.Token is { } token)
        {
            AdminLog.Protected(logger, token.Source, adminPolicy.ProtectsViews ? "need it too" : "stay open");
        }
        else
        {
            AdminLog.Unprotected(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
