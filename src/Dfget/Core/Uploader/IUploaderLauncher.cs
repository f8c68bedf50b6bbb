using Dragonfly.Dfget.WorkHome;

namespace Dragonfly.Dfget.Uploader;

/// <summary>What the download engine asks of the uploader side before it registers as a p2p peer.</summary>
/// <param name="BindIp">The IP the uploader binds and advertises.</param>
/// <param name="Port">Requested port, 0 = choose (15000 + (unix seconds / 300 mod 50000) + attempt).</param>
public sealed record UploaderLaunchRequest(
    WorkHomeLayout Home,
    string BindIp,
    int Port,
    string TaskFileName,
    long TotalLimitBytesPerSecond,
    TimeSpan ExpireTime,
    TimeSpan AliveTime,
    bool Verbose);

/// <summary>
/// Ensures one uploader ("dfget server") runs for the work home and knows this task's data dir; returns its port,
/// or null when none could be started (the engine then falls back to the cdn pattern: register with port 0).
/// </summary>
public interface IUploaderLauncher
{
    Task<int?> EnsureRunningAsync(UploaderLaunchRequest request, CancellationToken cancellationToken);

    /// <summary>Tells the uploader the task finished (<c>GET /client/finish</c>), so it serves the file until expiry.</summary>
    Task NotifyFinishedAsync(int port, string bindIp, string taskFileName, string taskId, string cid, string superNode, CancellationToken cancellationToken);
}
