using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfget.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Downloading;

/// <summary>Chooses the blob fetcher: P2P through the in-process engine when supernodes are configured, else none (direct).</summary>
internal static class BlobFetcherFactory
{
    public static IBlobFetcher Create(IServiceProvider services, DfdaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (options.EffectiveSupernodes is not { Nodes.Count: > 0 })
        {
            return new DisabledBlobFetcher();
        }

        return new EngineBlobFetcher(services.GetRequiredService<IBlobStreamer>(), options, services.GetRequiredService<Metrics.DfdaemonMetrics>(), services.GetRequiredService<ILogger<EngineBlobFetcher>>());
    }
}
