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
/// The uploader a download registers with: the <see cref="Port"/> to advertise now, and <see cref="Serving"/>, which says
/// whether the uploader serves this task on that port (it started, printed that port and accepted <c>/check/</c>). A
/// freshly started uploader is still starting when the download registers; the engine waits for <see cref="Serving"/>
/// before its first piece-success report, from which on the supernode sends other peers to <see cref="Port"/>.
/// </summary>
public sealed class UploaderLaunch
{
    private UploaderLaunch(int port, Task<bool> serving)
    {
        Port = port;
        Serving = serving;
    }

    /// <summary>No uploader: register as a cdn peer (port 0).</summary>
    public static UploaderLaunch None { get; } = new(0, Task.FromResult(false));

    /// <summary>The port to register with; 0 = none (cdn peer).</summary>
    public int Port { get; }

    /// <summary>True once the uploader serves this task on <see cref="Port"/>; false when it does not (never faults).</summary>
    public Task<bool> Serving { get; }

    /// <summary>Whether <see cref="Serving"/> may still turn out false.</summary>
    public bool IsPending => Port != 0 && !(Serving.IsCompletedSuccessfully && Serving.Result);

    /// <summary>An uploader that already serves the task on <paramref name="port"/>.</summary>
    public static UploaderLaunch Running(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        return new(port, Task.FromResult(true));
    }

    /// <summary>An uploader told to bind <paramref name="port"/> that is still starting.</summary>
    public static UploaderLaunch Starting(int port, Task<bool> serving)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentNullException.ThrowIfNull(serving);
        return new(port, serving);
    }
}

/// <summary>
/// Ensures one uploader ("dfget server") runs for the work home and knows this task's data dir (the engine falls back to
/// the cdn pattern, port 0, when there is none).
/// </summary>
public interface IUploaderLauncher
{
    /// <summary>
    /// Reuses the work home's uploader, or starts one and returns without waiting for it when the port it will bind is
    /// known in advance (<see cref="UploaderLaunch.Starting"/>). Failures give <see cref="UploaderLaunch.None"/> or a
    /// <see cref="UploaderLaunch.Serving"/> of false, not exceptions.
    /// </summary>
    Task<UploaderLaunch> LaunchAsync(UploaderLaunchRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Reuses the work home's uploader, or starts one the original way (with the request's port; 0 = the uploader picks
    /// one of its candidate ports) and waits until it serves the task; returns its port, or null when none could be started.
    /// </summary>
    Task<int?> EnsureRunningAsync(UploaderLaunchRequest request, CancellationToken cancellationToken);

    /// <summary>Tells the uploader the task finished (<c>GET /client/finish</c>), so it serves the file until expiry.</summary>
    Task NotifyFinishedAsync(int port, string bindIp, string taskFileName, string taskId, string cid, string superNode, CancellationToken cancellationToken);

    /// <summary>
    /// Tells the uploader the download gave the task up and deletes its file (<c>GET /client/abandon</c>), so it stops
    /// serving the name: a peer asking for it gets 404. Best effort: a failure is logged, not thrown.
    /// </summary>
    Task NotifyAbandonedAsync(int port, string bindIp, string taskFileName, CancellationToken cancellationToken);
}
