using Dragonfly.Supernode.Download;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Wires the download port: <c>services.AddSupernodeDownloadPort()</c>, then <c>listen.UseDownloadPort()</c>.</summary>
public static class DownloadPortExtensions
{
    /// <summary>The services the download port's connection handler needs besides the CDN's.</summary>
    public static IServiceCollection AddSupernodeDownloadPort(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<CdnFileReplies>();
        services.TryAddSingleton<DownloadPortConnectionHandler>();
        return services;
    }

    /// <summary>Serves the download port on this Kestrel endpoint instead of Kestrel's HTTP stack.</summary>
    public static ListenOptions UseDownloadPort(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        listen.UseConnectionHandler<DownloadPortConnectionHandler>();
        return listen;
    }
}
