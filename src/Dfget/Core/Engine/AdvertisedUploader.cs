using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Uploader;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Engine;

/// <summary>
/// The uploader one p2p download advertises to the supernode. It starts as the launch the download registered with,
/// which may still be starting (<see cref="IsPending"/>): from the first piece-success report on the supernode sends other
/// peers to it, so the P2P loop waits for <see cref="Serving"/> first. When that launch does not serve (its port was
/// taken, another uploader owns the work home, the process failed), <see cref="ReplaceAsync"/> starts the uploader the
/// original, waiting way and returns what to register as instead: a p2p peer on that uploader's port, or a cdn peer
/// (port 0) when none starts — what the download would have registered as had it waited for the uploader.
/// </summary>
internal sealed partial class AdvertisedUploader
{
    private readonly IUploaderLauncher _launcher;
    private readonly UploaderLaunchRequest _request;
    private readonly RegistrationInfo _registered;
    private readonly ILogger _logger;

    public AdvertisedUploader(IUploaderLauncher launcher, UploaderLaunchRequest request, UploaderLaunch launch, RegistrationInfo registered, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(launcher);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(registered);
        ArgumentNullException.ThrowIfNull(logger);
        _launcher = launcher;
        _request = request;
        _registered = registered;
        _logger = logger;
        Port = launch.Port;
        Serving = launch.Serving;
        IsPending = launch.IsPending;
    }

    /// <summary>The port registered with the supernode (0 after a replacement found no uploader).</summary>
    public int Port { get; private set; }

    /// <summary>Whether the uploader serves this task on <see cref="Port"/> (settled once a replacement ran).</summary>
    public Task<bool> Serving { get; private set; }

    /// <summary>Whether the launch registered with was still starting (the P2P loop must wait before reporting successes).</summary>
    public bool IsPending { get; }

    /// <summary>Starts the uploader the waiting way and returns the registration to use instead of the one that did not serve.</summary>
    public async Task<RegistrationInfo> ReplaceAsync(CancellationToken cancellationToken)
    {
        Log.Replacing(_logger, Port);
        int? port;
        try
        {
            port = await _launcher.EnsureRunningAsync(_request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ReplacementFailed(_logger, e.Message);
            port = null;
        }

        Port = port ?? 0;
        Serving = Task.FromResult(port is not null);
        return port is { } p ? _registered with { Port = p, Pattern = "p2p" } : _registered with { Port = 0, Pattern = "cdn" };
    }

    private static partial class Log
    {
        [LoggerMessage(2005, LogLevel.Warning, "The uploader registered on port {Port} does not serve; starting it again before registering again")]
        public static partial void Replacing(ILogger logger, int port);

        [LoggerMessage(2006, LogLevel.Warning, "Starting the uploader again failed, continuing as a cdn peer: {Error}")]
        public static partial void ReplacementFailed(ILogger logger, string error);
    }
}
