using System.ComponentModel.DataAnnotations;
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
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Tests.Managers.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dragonfly.Supernode.Tests.Managers;

public class ManagersServiceCollectionExtensionsTests
{
    private static ServiceProvider Build(Func<IServiceProvider, TrackerOptions>? options = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<ICDNMgr, FakeCdnMgr>();
        services.AddSingleton<IOriginClient, FakeOriginClient>();
        services.AddSupernodeManagers(options);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public void AddSupernodeManagers_ResolvesEveryManagerAsSingleton()
    {
        using var provider = Build();

        foreach (var type in new[]
                 {
                     typeof(ITaskMgr), typeof(IPeerMgr), typeof(IDfgetTaskMgr), typeof(IProgressMgr), typeof(ISchedulerMgr), typeof(IGcMgr),
                     typeof(IRegistrationService), typeof(IPiecePullService), typeof(IPieceErrorQueue), typeof(ICdnObserver), typeof(TrackerOptions),
                 })
        {
            provider.GetRequiredService(type).Should().BeSameAs(provider.GetRequiredService(type), type.Name);
        }

        provider.GetRequiredService<IPieceErrorQueue>().Should().BeSameAs(provider.GetRequiredService<PieceErrorService>());
        provider.GetServices<IHostedService>().Select(s => s.GetType()).Should().Contain([typeof(GcService), typeof(PieceErrorService), typeof(TrackerGauges)]);
    }

    [Fact]
    public void AddSupernodeManagers_MapsHostOptions()
    {
        using var provider = Build(_ => new TrackerOptions { PeerDownLimit = 7, AdvertiseIp = "10.1.2.3" });

        provider.GetRequiredService<TrackerOptions>().PeerDownLimit.Should().Be(7);
    }

    [Theory]
    [InlineData(0, "10.0.0.1")]
    [InlineData(4, "not-an-ip")]
    public void AddSupernodeManagers_InvalidOptions_ThrowOnResolve(int downLimit, string ip)
    {
        using var provider = Build(_ => new TrackerOptions { PeerDownLimit = downLimit, AdvertiseIp = ip });

        var act = () => provider.GetRequiredService<TrackerOptions>();

        act.Should().Throw<ValidationException>();
    }

    [Fact]
    public void AddSupernodeManagers_RegisteredFirst_IsKept()
    {
        var services = new ServiceCollection();
        var custom = new PeerMgr(new TrackerOptions(), TimeProvider.System);
        services.AddSingleton<IPeerMgr>(custom);
        services.AddLogging();
        services.AddSingleton<ICDNMgr, FakeCdnMgr>();
        services.AddSingleton<IOriginClient, FakeOriginClient>();

        services.AddSupernodeManagers();

        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IPeerMgr>().Should().BeSameAs(custom);
    }
}
