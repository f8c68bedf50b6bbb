using Dragonfly.Dfget.Uploader;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

public static class UploaderServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IUploaderLauncher"/> (starts <c>dfget server</c> processes). <paramref name="dfgetPath"/> names
    /// the dfget executable or dll when the host is not dfget itself (e.g. dfdaemon); null = resolve automatically.
    /// </summary>
    public static IServiceCollection AddDfgetUploaderLauncher(this IServiceCollection services, string? dfgetPath = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(new UploaderLauncherOptions());
        services.TryAddSingleton<IUploaderProcessStarter>(sp => new DfgetProcessStarter(dfgetPath, sp.GetRequiredService<ILogger<DfgetProcessStarter>>()));
        services.TryAddSingleton<IUploaderLauncher, UploaderLauncher>();
        return services;
    }
}
