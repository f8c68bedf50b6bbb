using Dragonfly.Dfget.Uploader;

namespace Dragonfly.Dfget.Engine;

/// <summary>The launcher used when no uploader is registered: never starts one, so p2p downloads register as cdn peers.</summary>
public sealed class NoUploaderLauncher : IUploaderLauncher
{
    public Task<UploaderLaunch> LaunchAsync(UploaderLaunchRequest request, CancellationToken cancellationToken) => Task.FromResult(UploaderLaunch.None);

    public Task<int?> EnsureRunningAsync(UploaderLaunchRequest request, CancellationToken cancellationToken) => Task.FromResult<int?>(null);

    public Task NotifyFinishedAsync(int port, string bindIp, string taskFileName, string taskId, string cid, string superNode, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public Task NotifyAbandonedAsync(int port, string bindIp, string taskFileName, CancellationToken cancellationToken) => Task.CompletedTask;
}
