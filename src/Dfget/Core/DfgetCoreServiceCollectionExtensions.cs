using Dragonfly.Common.Hashing;
using Dragonfly.Dfget.Downloading;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Streaming;
using Dragonfly.Dfget.Uploader;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the dfget download engine (<see cref="IDownloadEngine"/>) and its parts.</summary>
public static class DfgetCoreServiceCollectionExtensions
{
    /// <summary>
    /// Adds the engine. Everything is <c>TryAdd</c>, so callers may register their own parts first. Without an
    /// <see cref="IUploaderLauncher"/> registered (by the uploader's own extension) p2p downloads run as cdn peers.
    /// </summary>
    public static IServiceCollection AddDfgetCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRandomFactory, DefaultRandomFactory>();
        services.TryAddSingleton<DfgetHttpClients>();
        services.TryAddSingleton<ISupernodeSessionFactory, SupernodeSessionFactory>();
        services.TryAddSingleton<ILocalIpResolver, LocalIpResolver>();
        services.TryAddSingleton<IUploaderLauncher, NoUploaderLauncher>();
        services.TryAddSingleton<Md5Batcher>();
        services.TryAddSingleton<PieceFetcher>();
        services.TryAddSingleton<BackSourceDownloader>();
        services.TryAddSingleton<IDownloadEngine, DownloadOrchestrator>();
        services.TryAddSingleton<IBlobStreamer, BlobStreamer>();
        return services;
    }
}
