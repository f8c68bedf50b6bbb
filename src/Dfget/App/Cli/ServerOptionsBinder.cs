using System.Net;
using Dragonfly.Common.Rates;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;

namespace Dragonfly.Dfget.App.Cli;

/// <summary>A parsed <c>dfget server</c>: the uploader options plus where to log.</summary>
public sealed record ServerInvocation(UploaderOptions Options, WorkHomeLayout Home, bool Verbose);

/// <summary>Binds the <c>server</c> flags onto <see cref="UploaderOptions"/> (one uploader per work home: the lock lives beside host.meta).</summary>
public static class ServerOptionsBinder
{
    public static ServerInvocation Bind(ServerVerb flags, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(flags);
        ArgumentNullException.ThrowIfNull(context);
        var home = new WorkHomeLayout(DownloadRequestBinder.ResolveHome(flags.Home, null, context));
        var ip = IPAddress.Any;
        if (!string.IsNullOrWhiteSpace(flags.Ip) && !IPAddress.TryParse(flags.Ip.Trim(), out ip))
        {
            throw new CliUsageException($"invalid --ip '{flags.Ip}': expected an IP address");
        }

        var meta = string.IsNullOrWhiteSpace(flags.Meta) ? home.HostMetaPath : DownloadRequestBinder.FullPath(flags.Meta.Trim(), "--meta", context.CurrentDirectory);
        if (Directory.Exists(meta))
        {
            meta = Path.Combine(meta, "host.meta");
        }

        var data = string.IsNullOrWhiteSpace(flags.Data) ? home.DataDir : DownloadRequestBinder.FullPath(flags.Data.Trim(), "--data", context.CurrentDirectory);
        var lockPath = Path.Combine(Path.GetDirectoryName(meta)!, "uploader.lock");
        var options = new UploaderOptions
        {
            BindAddress = ip!,
            Port = DownloadRequestBinder.IntOr(flags.Port, "--port", 0, min: 0, max: 65535),
            DataDirs = [data],
            HostMetaPath = meta,
            LockPath = lockPath,

            // The work home's own data dir, under its own lock (what a download's uploader always is): no other uploader's.
            OwnsDataDirs = SamePath(data, home.DataDir) && SamePath(lockPath, home.UploaderLockPath),
            ExpireTime = DownloadRequestBinder.DurationOr(flags.ExpireTime, "--expiretime", UploaderOptions.DefaultExpireTime, allowZero: false),
            AliveTime = DownloadRequestBinder.DurationOr(flags.AliveTime, "--alivetime", UploaderOptions.DefaultAliveTime, allowZero: false),
            TotalLimit = DownloadRequestBinder.RateOr(flags.TotalLimit, "--totallimit", null, Rate.Zero),
        };
        return new ServerInvocation(options, home, flags.Verbose);
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);
}
