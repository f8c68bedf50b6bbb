using Dragonfly.Supernode.Managers;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Managers.DfgetTasks;
using Dragonfly.Supernode.Managers.Gc;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.PieceErrors;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Managers.Scheduler;
using Dragonfly.Supernode.Managers.Tasks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the tracker managers (tasks, peers, dfget-tasks, progress, scheduler, GC, piece errors, registration).</summary>
public static class ManagersServiceCollectionExtensions
{
    /// <summary>
    /// Adds every tracker manager with <c>TryAdd</c> (tests can replace any part first). <paramref name="options"/> builds the
    /// <see cref="TrackerOptions"/> from the host's options (validated when first resolved); without it the defaults apply.
    /// Needs from elsewhere: <c>ICDNMgr</c>, <c>IOriginClient</c> (CDN engineer), logging and metrics
    /// (<c>AddMetrics()</c> is called here). Hosted services: <see cref="GcService"/> (also registers the supernode as a peer at
    /// start), <see cref="PieceErrorService"/> and <see cref="TrackerGauges"/>. Also registers <see cref="ICdnObserver"/>.
    /// </summary>
    public static IServiceCollection AddSupernodeManagers(this IServiceCollection services, Func<IServiceProvider, TrackerOptions>? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var value = options?.Invoke(sp) ?? new TrackerOptions();
            value.Validate();
            return value;
        });
        services.TryAddSingleton<TrackerMetrics>();
        services.TryAddSingleton<ISchedulerMgr>(sp => new SchedulerMgr(
            sp.GetRequiredService<TrackerOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<Func<Random>>()?.Invoke() ?? new Random()));
        services.TryAddSingleton<IProgressMgr, ProgressMgr>();
        services.TryAddSingleton<ITaskMgr, TaskMgr>();
        services.TryAddSingleton<IPeerMgr, PeerMgr>();
        services.TryAddSingleton<IDfgetTaskMgr, DfgetTaskMgr>();
        services.TryAddSingleton<ICdnObserver, CdnProgressObserver>();
        services.TryAddSingleton<IRegistrationService, RegistrationService>();
        services.TryAddSingleton<IPiecePullService, PiecePullService>();
        services.TryAddSingleton<IGcMgr, GcMgr>();
        services.TryAddSingleton<GcService>();
        services.TryAddSingleton<PieceErrorService>();
        services.TryAddSingleton<IPieceErrorQueue>(sp => sp.GetRequiredService<PieceErrorService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, GcService>(sp => sp.GetRequiredService<GcService>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PieceErrorService>(sp => sp.GetRequiredService<PieceErrorService>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TrackerGauges>());
        return services;
    }
}
