using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Housekeeping;
using Dragonfly.Dfdaemon.Metrics;
using Dragonfly.Dfdaemon.Proxy;
using Dragonfly.Dfdaemon.Registry;
using Dragonfly.Dfdaemon.Tls;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>dfdaemon's composition: every part a <c>TryAddSingleton</c>, so tests and hosts can swap any of them (the blob fetcher first).</summary>
public static class DfdaemonServiceCollectionExtensions
{
    public static IServiceCollection AddDfdaemon(this IServiceCollection services, DfdaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DfdaemonMetrics>();
        services.TryAddSingleton<UpstreamTlsPolicy>();
        services.TryAddSingleton<ProxyRouter>();
        services.TryAddSingleton<UpstreamInvoker>();
        services.TryAddSingleton<HttpForwarder>();
        services.TryAddSingleton<BlobAccessCheck>();
        services.TryAddSingleton<BlobResponder>();
        services.TryAddSingleton<DfdaemonRequestHandler>();
        if (options.HijackHttps is { } hijack)
        {
            services.TryAddSingleton(sp => new HijackCertificateStore(hijack, sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<ConnectHandler>(sp, sp.GetRequiredService<HijackCertificateStore>()));
        }
        else
        {
            services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<ConnectHandler>(sp));
        }

        services.TryAddSingleton<IBlobFetcher>(sp => BlobFetcherFactory.Create(sp, options));
        if (options.EffectiveSupernodes is { Nodes.Count: > 0 })
        {
            // The P2P engine in-process; its uploader is a `dfget server` for dfdaemon's own work home (one per work home).
            services.AddDfgetUploaderLauncher(options.DfPath);
            services.AddDfgetCore();
        }

        services.TryAddSingleton<LocalRepoCleaner>();
        services.AddHostedService(sp => sp.GetRequiredService<LocalRepoCleaner>());
        return services;
    }
}
