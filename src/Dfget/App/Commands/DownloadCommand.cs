using System.Globalization;
using Dragonfly.Dfget.App.Cli;
using Dragonfly.Dfget.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfget.App.Commands;

/// <summary>
/// The download: prints the original's console lines, runs the engine (with a live progress bar under <c>--showbar</c>),
/// prints <c>download SUCCESS|FAIL(...)</c> plus where the bytes came from, and returns the exit status (error code &amp; 0xFF).
/// </summary>
public static class DownloadCommand
{
    public const int CancelledExitCode = 130;

    public static async Task<int> RunAsync(DownloadInvocation invocation, TextWriter stdout, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(time);
        var request = invocation.Request;
        DownloadThreadPool.Configure();
        var warmup = StartupWarmup.Start(request);
        using var loggerFactory = DfgetLogging.Create(request.WorkHome.ClientLogPath, invocation.Verbose, invocation.Console);
        var services = new ServiceCollection();
        services.AddSingleton(loggerFactory);
        services.AddSingleton(time);
        services.AddDfgetUploaderLauncher();
        services.AddDfgetCore();
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<IDownloadEngine>();

        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"--{time.GetLocalNow():yyyy-MM-dd HH:mm:ss}--  {request.Url.OriginalString}")).ConfigureAwait(false);
        await stdout.WriteLineAsync($"dfget version:{DfgetVersion.Current}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"workspace:{request.WorkHome.Root}").ConfigureAwait(false);
        if (request.Pattern != DownloadPattern.Source)
        {
            await stdout.WriteLineAsync("start download by dragonfly...").ConfigureAwait(false);
        }

        DownloadResult result;
        try
        {
            result = invocation.ShowBar
                ? await ProgressBar.RunAsync(progress => engine.DownloadAsync(request, progress, cancellationToken)).ConfigureAwait(false)
                : await engine.DownloadAsync(request, null, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stdout.WriteLineAsync("download CANCELLED").ConfigureAwait(false);
            return CancelledExitCode;
        }

        foreach (var line in ResultLines(result))
        {
            await stdout.WriteLineAsync(line).ConfigureAwait(false);
        }

        await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        await warmup.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return result.ExitCode;
    }

    /// <summary>
    /// The closing lines: the original's SUCCESS/FAIL line, then (on success) the byte accounting: bytes transferred per
    /// source, with the part fetched again over bytes already on disk when there is one.
    /// </summary>
    public static IEnumerable<string> ResultLines(DownloadResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!string.IsNullOrEmpty(result.Sign))
        {
            yield return $"sign:{result.Sign}";
        }

        if (!string.IsNullOrEmpty(result.Supernode))
        {
            yield return $"client:{result.LocalIp} connected to node:{result.Supernode}";
        }

        var cost = result.Duration.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);
        if (result.Success)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"download SUCCESS cost:{cost}s length:{result.Length} reason:{result.BackSourceReason}");
            var bytes = result.Bytes;
            var sources = string.Create(CultureInfo.InvariantCulture, $"from peers: {bytes.FromPeers} B, from supernode: {bytes.FromSupernode} B, from origin: {bytes.FromSource} B");
            yield return bytes.Refetched > 0 ? string.Create(CultureInfo.InvariantCulture, $"{sources} (fetched again: {bytes.Refetched} B)") : sources;
            yield break;
        }

        var code = (int)result.ErrorCode;
        var message = GoJsonString.Quote(result.Message);
        yield return string.Create(CultureInfo.InvariantCulture, $"download FAIL({code}) cost:{cost}s length:{result.Length} reason:{result.BackSourceReason} error:{{\"Code\":{code},\"Msg\":{message}}}");
    }
}
