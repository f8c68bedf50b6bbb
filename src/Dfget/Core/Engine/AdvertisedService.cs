using Dragonfly.Dfget.Registration;

namespace Dragonfly.Dfget.Engine;

/// <summary>
/// What a p2p download asked to have served, from the uploader launch on (while that uploader may still be starting):
/// its task file name, the uploader it advertises and the session that registers it with supernodes. The download either
/// hands it to the uploader (finished and served) or withdraws it (<see cref="ServiceWithdrawal"/>).
/// </summary>
internal sealed class AdvertisedService
{
    private readonly CancellationTokenSource _launch;

    /// <param name="launch">The source of the token the uploader launch was given: cancelling it stops a launch still starting.</param>
    public AdvertisedService(ISupernodeSession session, AdvertisedUploader uploader, string taskFileName, CancellationTokenSource launch)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(uploader);
        ArgumentException.ThrowIfNullOrEmpty(taskFileName);
        ArgumentNullException.ThrowIfNull(launch);
        Session = session;
        Uploader = uploader;
        TaskFileName = taskFileName;
        _launch = launch;
    }

    public ISupernodeSession Session { get; }

    public AdvertisedUploader Uploader { get; }

    public string TaskFileName { get; }

    /// <summary>
    /// The uploader serves the file on the registered port: piece successes went out, from which on supernodes send
    /// other peers here.
    /// </summary>
    public bool IsServed => Uploader.Port != 0 && Session.Current is not null && Uploader.Serving.IsCompletedSuccessfully && Uploader.Serving.Result;

    /// <summary>
    /// Stops an uploader launch that is still starting, so it sends no <c>/check/</c> from now on, and waits (until
    /// <paramref name="cancellationToken"/>) for a <c>/check/</c> already sent, which is finished rather than cut off.
    /// Returns whether the uploader has the task's name registered: then it must be told to forget it, and only now,
    /// after that registration.
    /// </summary>
    public async Task<bool> StopLaunchAsync(CancellationToken cancellationToken)
    {
        await _launch.CancelAsync().ConfigureAwait(false);
        var serving = Uploader.Serving;
        if (Uploader.Port == 0)
        {
            return false;
        }

        try
        {
            return await serving.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (serving.IsCanceled)
        {
            // Stopped before its /check/: the uploader never heard of the name.
            return false;
        }
    }
}
