using Dragonfly.Dfget.Registration;
using Dragonfly.Dfget.Uploader;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.Engine;

/// <summary>
/// Takes back the <c>.service</c> file a p2p download advertised when the download gives it up (cancelled, timed out, or
/// P2P failed and it goes back to the source): the supernodes are told this peer no longer serves the task
/// (<c>/peer/service/down</c>, as the uploader's janitor reports at expiry; every supernode the download registered with,
/// so one it migrated away from stops sending peers here too), and the uploader is told to forget the name
/// (<c>/client/abandon</c>), so a peer already on its way gets 404. An uploader launch still starting is stopped first,
/// and a <c>/check/</c> it already sent is waited for, so the name is never registered after the withdrawal. All within
/// <see cref="Budget"/> together (a Ctrl-C is never held up longer), best effort: what fails is logged.
/// </summary>
internal sealed partial class ServiceWithdrawal
{
    /// <summary>The longest the notices may take together.</summary>
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

    /// <summary>Sends what the service needs; never throws, and returns within <see cref="Budget"/>.</summary>
    /// <param name="bindIp">The IP the uploader is called on.</param>
    public async Task WithdrawAsync(AdvertisedService service, string bindIp)
    {
        ArgumentNullException.ThrowIfNull(service);
        using var budget = new CancellationTokenSource(Budget, _timeProvider);

        // Supernodes send peers here only after piece successes, which wait for the uploader to serve.
        var served = service.IsServed;
        var supernodes = served
            ? NoticeAsync("supernodes", token => service.Session.ServiceDownAsync(token), budget.Token)
            : Task.FromResult(false);
        var uploader = NoticeAsync("uploader", token => AbandonAsync(service, bindIp, token), budget.Token);
        await Task.WhenAll(supernodes, uploader).ConfigureAwait(false);
        if (served)
        {
            Log.Withdrawn(_logger, service.TaskFileName, service.Session.Current?.Node.HostPort ?? "none");
        }
        else if (await uploader.ConfigureAwait(false))
        {
            Log.WithdrawnBeforeServing(_logger, service.TaskFileName);
        }
    }

    /// <summary>Tells the uploader to forget the name once it is known to have it registered; whether it was told.</summary>
    private async Task<bool> AbandonAsync(AdvertisedService service, string bindIp, CancellationToken token)
    {
        if (!await service.StopLaunchAsync(token).ConfigureAwait(false))
        {
            return false;
        }

        await _launcher.NotifyAbandonedAsync(service.Uploader.Port, bindIp, service.TaskFileName, token).ConfigureAwait(false);
        return true;
    }

    /// <summary>Runs one notice within the budget; false when it failed or ran out of time.</summary>
    private async Task<bool> NoticeAsync(string to, Func<CancellationToken, Task<bool>> notice, CancellationToken token)
    {
        try
        {
            // WaitAsync: the budget holds even for a notice that does not watch its token closely.
            return await notice(token).WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Log.NoticeTimedOut(_logger, to, Budget.TotalSeconds);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException or OperationCanceledException)
        {
            Log.NoticeFailed(_logger, to, e.Message);
        }

        return false;
    }

    private Task<bool> NoticeAsync(string to, Func<CancellationToken, Task> notice, CancellationToken token) =>
        NoticeAsync(to, async t =>
        {
            await notice(t).ConfigureAwait(false);
            return true;
        }, token);

    private static partial class Log
    {
        [LoggerMessage(2007, LogLevel.Information, "Gave up serving {TaskFileName}: service-down sent to the supernodes it registered with (last {Node}), the uploader told to forget it")]
        public static partial void Withdrawn(ILogger logger, string taskFileName, string node);

        [LoggerMessage(2010, LogLevel.Information, "Gave up {TaskFileName} before serving it: the uploader that registered it meanwhile was told to forget it")]
        public static partial void WithdrawnBeforeServing(ILogger logger, string taskFileName);

        [LoggerMessage(2008, LogLevel.Warning, "Telling the {To} this peer no longer serves the task took more than {Seconds} s; given up")]
        public static partial void NoticeTimedOut(ILogger logger, string to, double seconds);

        [LoggerMessage(2009, LogLevel.Warning, "Telling the {To} this peer no longer serves the task failed: {Error}")]
        public static partial void NoticeFailed(ILogger logger, string to, string error);
    }
}
