using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the supernode CDN: origin client (under the registered <see cref="SourceAddressPolicy"/>, allow-all unless one was added before), piece store, CDNMgr, disk GC. Configure it with <c>services.Configure&lt;CdnOptions&gt;</c>.</summary>
public static class CdnServiceCollectionExtensions
{
    public static IServiceCollection AddSupernodeCdn(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<CdnOptions>().ValidateDataAnnotations().ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CdnMetrics>();
        services.TryAddSingleton(SourceAddressPolicy.AllowAll);
        services.TryAddSingleton<SourceConnector>();
        services.TryAddSingleton<IOriginClient, OriginClient>();
        services.TryAddSingleton<IPieceStore, LocalPieceStore>();
        services.TryAddSingleton(sp => new CDNMgr(
            sp.GetRequiredService<IOptions<CdnOptions>>(),
            sp.GetRequiredService<IPieceStore>(),
            sp.GetRequiredService<IOriginClient>(),
            () => sp.GetService<ICdnObserver>() ?? NullCdnObserver.Instance,
            sp.GetRequiredService<CdnMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<CDNMgr>>()));
        services.TryAddSingleton<ICDNMgr>(sp => sp.GetRequiredService<CDNMgr>());
        services.TryAddSingleton<ICdnFileAvailability>(sp => sp.GetRequiredService<CDNMgr>());
        services.TryAddSingleton<ICdnTaskPresence>(sp => sp.GetRequiredService<CDNMgr>());
        services.TryAddSingleton<DiskGcService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DiskGcService>(sp => sp.GetRequiredService<DiskGcService>()));
        return services;
    }
}
