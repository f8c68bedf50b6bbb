using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Uploader;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Engine;

/// <summary>
/// Takes back the <c>.service</c> file a p2p download advertised when the download gives it up (cancelled, timed out, or
/// P2P failed and it goes back to the source): the supernode is told this peer no longer serves the task
/// (<c>/peer/service/down</c>, as the uploader's janitor reports at expiry), so it stops sending other peers here, and
/// the uploader is told to forget the name (<c>/client/abandon</c>), so a peer already on its way gets 404. Both at once,
/// within <see cref="Budget"/> together (a Ctrl-C is never held up longer), best effort: what fails is logged.
/// </summary>
internal sealed partial class ServiceWithdrawal
{
    /// <summary>The longest the two notices may take together.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    private readonly IUploaderLauncher _launcher;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public ServiceWithdrawal(IUploaderLauncher launcher, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(launcher);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _launcher = launcher;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Sends both notices; never throws, and returns within <see cref="Budget"/>.</summary>
    /// <param name="session">The download's session; its current registration is the one reported down.</param>
    /// <param name="uploaderPort">The port the uploader serves the task on.</param>
    public async Task WithdrawAsync(ISupernodeSession session, int uploaderPort, string bindIp, string taskFileName)
    {
        ArgumentNullException.ThrowIfNull(session);
        using var budget = new CancellationTokenSource(Budget, _timeProvider);
        var node = session.Current?.Node.HostPort ?? "none";
        var supernode = NoticeAsync("supernode " + node, token => session.ServiceDownAsync(token), budget.Token);
        var uploader = NoticeAsync("uploader", token => _launcher.NotifyAbandonedAsync(uploaderPort, bindIp, taskFileName, token), budget.Token);
        await Task.WhenAll(supernode, uploader).ConfigureAwait(false);
        Log.Withdrawn(_logger, taskFileName, node);
    }

    private async Task NoticeAsync(string to, Func<CancellationToken, Task> notice, CancellationToken token)
    {
        try
        {
            // WaitAsync: the budget holds even for a notice that does not watch its token closely.
            await notice(token).WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Log.NoticeTimedOut(_logger, to, Budget.TotalSeconds);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException or OperationCanceledException)
        {
            Log.NoticeFailed(_logger, to, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2007, LogLevel.Information, "Gave up serving {TaskFileName}: service-down sent to supernode {Node}, the uploader told to forget it")]
        public static partial void Withdrawn(ILogger logger, string taskFileName, string node);

        [LoggerMessage(2008, LogLevel.Warning, "Telling the {To} this peer no longer serves the task took more than {Seconds} s; given up")]
        public static partial void NoticeTimedOut(ILogger logger, string to, double seconds);

        [LoggerMessage(2009, LogLevel.Warning, "Telling the {To} this peer no longer serves the task failed: {Error}")]
        public static partial void NoticeFailed(ILogger logger, string to, string error);
    }
}
