using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Streaming;
using Dragonfly.Dfget.Uploader;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfget.Tests.Engine;

public sealed class DfgetCoreServiceCollectionExtensionsTests
{
    [Fact]
    public void AddDfgetCore_ResolvesEngineAndStreamer()
    {
        using var provider = new ServiceCollection().AddDfgetCore().BuildServiceProvider();

        provider.GetRequiredService<IDownloadEngine>().Should().BeOfType<DownloadOrchestrator>();
        provider.GetRequiredService<IBlobStreamer>().Should().NotBeNull();
        provider.GetRequiredService<IUploaderLauncher>().Should().BeOfType<NoUploaderLauncher>();
    }

    [Fact]
    public void AddDfgetCore_KeepsPreviouslyRegisteredParts()
    {
        var launcher = new FakeUploaderLauncher();
        var services = new ServiceCollection();
        services.AddSingleton<IUploaderLauncher>(launcher);
        services.AddSingleton<IRandomFactory, SeededRandomFactory>();

        using var provider = services.AddDfgetCore().BuildServiceProvider();

        provider.GetRequiredService<IUploaderLauncher>().Should().BeSameAs(launcher);
        provider.GetRequiredService<IRandomFactory>().Should().BeOfType<SeededRandomFactory>();
    }
}
