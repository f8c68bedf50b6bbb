using Dragonfly.Common.Hashing;
using Dragonfly.Dfget.Downloading;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Uploader;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.EndToEnd;

/// <summary>The engine as dfget composes it, over real HTTP clients, for the end-to-end tests.</summary>
internal static class RealEngine
{
    public static DownloadOrchestrator Create(DfgetHttpClients clients, Md5Batcher md5, IUploaderLauncher? launcher = null) => new(
        new SupernodeSessionFactory(clients, TimeProvider.System, NullLoggerFactory.Instance),
        launcher ?? new NoUploaderLauncher(),
        new LocalIpResolver(TimeProvider.System),
        new PieceFetcher(clients, TimeProvider.System, md5),
        md5,
        new BackSourceDownloader(clients, NullLogger<BackSourceDownloader>.Instance),
        TimeProvider.System,
        new DefaultRandomFactory(),
        NullLoggerFactory.Instance);
}
