using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Dragonfly.Common.Durations;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Identity;
using Dragonfly.Common.Nodes;
using Dragonfly.Common.Rates;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;

namespace Dragonfly.Dfget.App.Cli;

/// <summary>A parsed download: the engine request plus the console options.</summary>
public sealed record DownloadInvocation(DownloadRequest Request, bool ShowBar, bool Console, bool Verbose, string? ConfigSource);

/// <summary>
/// Turns the download flags into a validated <see cref="DownloadRequest"/>: flag, else config file, else the original's
/// default, for every setting. Throws <see cref="CliUsageException"/> with a one-line message on any bad value.
/// </summary>
public static class DownloadRequestBinder
{
    public const string DefaultNode = "127.0.0.1:8002";

    public static DownloadInvocation Bind(DownloadVerb flags, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(flags);
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrWhiteSpace(flags.Url))
        {
            throw new CliUsageException("please use --url (-u) to specify the url of the file to download");
        }

        var url = flags.Url.Trim();
        if (!TaskIdentity.IsHttpUrl(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new CliUsageException($"invalid url '{url}': only http and https urls are supported");
        }

        DfgetConfig config;
        try
        {
            config = DfgetConfigFile.Load(context.YamlConfigPath, context.IniConfigPath);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException(e.Message);
        }

        var output = ResolveOutput(flags.Output, url, context.CurrentDirectory);
        var md5 = Blank(flags.Md5);
        if (md5 is not null && !Md5Hex.IsMd5(md5))
        {
            throw new CliUsageException($"invalid md5 '{md5}': expected 32 hex characters");
        }

        var headers = flags.Headers.ToList();
        foreach (var header in headers)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || header.AsSpan(0, colon).Trim().IsEmpty)
            {
                throw new CliUsageException($"invalid header '{header}': expected 'Key: value'");
            }
        }

        var fromFlags = flags.Nodes.Any();
        var nodeValues = fromFlags ? flags.Nodes.ToList() : config.Nodes.Count > 0 ? config.Nodes.ToList() : [DefaultNode];
        if (!SupernodeList.TryParse(nodeValues, out var nodes, out var nodeError))
        {
            // Say where the bad address came from: the command line, or the config file an operator has to fix.
            throw new CliUsageException(fromFlags || config.Source is null ? $"invalid --node: {nodeError}" : $"invalid config {config.Source}: nodes: {nodeError}");
        }

        var request = new DownloadRequest
        {
            Url = uri,
            Output = output,
            Md5 = md5,
            Identifier = Blank(flags.Identifier),
            CallSystem = Blank(flags.CallSystem),
            Filter = TaskIdentity.ParseFilter(flags.Filter),
            Headers = headers,
            Nodes = nodes,
            Pattern = ParsePattern(flags.Pattern),
            NotBackSource = flags.NotBackSource,
            LocalLimit = RateOr(flags.LocalLimit, "--locallimit", config.LocalLimit, DownloadRequest.DefaultLocalLimit),
            MinRate = RateOr(flags.MinRate, "--minrate", config.MinRate, DownloadRequest.DefaultMinRate),
            TotalLimit = RateOr(flags.TotalLimit, "--totallimit", config.TotalLimit, Rate.Zero),
            Timeout = DurationOr(flags.Timeout, "--timeout", TimeSpan.Zero, allowZero: true),
            Dfdaemon = flags.Dfdaemon,
            Insecure = flags.Insecure,
            CaCerts = ReadCaCerts(flags.CaCerts, context.CurrentDirectory),
            WorkHome = new WorkHomeLayout(ResolveHome(flags.Home, config.WorkHome, context)),
            ClientQueue = IntOr(flags.ClientQueue, "--clientqueue", config.ClientQueueSize ?? DownloadRequest.DefaultClientQueue, min: 1),
            BindIp = ParseIp(flags.Ip),
            Port = IntOr(flags.Port, "--port", 0, min: 0, max: 65535),
            ExpireTime = DurationOr(flags.ExpireTime, "--expiretime", UploaderOptions.DefaultExpireTime, allowZero: false),
            AliveTime = DurationOr(flags.AliveTime, "--alivetime", UploaderOptions.DefaultAliveTime, allowZero: false),
            Verbose = flags.Verbose,
        };

        try
        {
            request.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }

        return new DownloadInvocation(request, flags.ShowBar, flags.Console, flags.Verbose, config.Source);
    }

    /// <summary>The output path: the flag, else the text after the last '/' of the URL (query included); never a directory.</summary>
    public static string ResolveOutput(string? flag, string url, string currentDirectory)
    {
        var output = Blank(flag) ?? url[(url.LastIndexOf('/') + 1)..];
        if (output.Length == 0)
        {
            throw new CliUsageException($"cannot derive a file name from '{url}': please use --output (-o)");
        }

        var full = FullPath(output, "--output", currentDirectory);
        if (Directory.Exists(full) || output.EndsWith('/'))
        {
            throw new CliUsageException($"output '{output}' is a directory: please give a file path");
        }

        return full;
    }

    public static string ResolveHome(string? flag, string? configured, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var home = Blank(flag) ?? Blank(configured) ?? context.DefaultWorkHome();
        if (home.StartsWith("~/", StringComparison.Ordinal))
        {
            home = Path.Combine(UserHome.Resolve(), home[2..]);
        }

        return FullPath(home, "--home (or workHome)", context.CurrentDirectory);
    }

    /// <summary>
    /// <paramref name="path"/> made absolute against <paramref name="currentDirectory"/>; a usage error for a path no file
    /// system holds (a NUL character, as a YAML <c>"\0"</c> gives), which .NET refuses with an <see cref="ArgumentException"/>.
    /// </summary>
    public static string FullPath(string path, string name, string currentDirectory)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new CliUsageException($"invalid {name}: a path cannot contain a NUL character");
        }

        return Path.GetFullPath(path, currentDirectory);
    }

    public static DownloadPattern ParsePattern(string? value) => Blank(value)?.ToLowerInvariant() switch
    {
        null or "p2p" => DownloadPattern.P2p,
        "cdn" => DownloadPattern.Cdn,
        "source" => DownloadPattern.Source,
        _ => throw new CliUsageException($"invalid --pattern '{value}': use p2p, cdn or source"),
    };

    public static Rate RateOr(string? flag, string name, Rate? configured, Rate fallback)
    {
        if (Blank(flag) is { } text)
        {
            if (!Rate.TryParse(text, out var rate))
            {
                throw new CliUsageException($"invalid {name} '{text}': use a rate like 20M, 1.5G, 512K or bytes");
            }

            if (!rate.IsZero)
            {
                return rate;
            }
        }

        return configured is { IsZero: false } c ? c : fallback;
    }

    public static TimeSpan DurationOr(string? flag, string name, TimeSpan fallback, bool allowZero)
    {
        if (Blank(flag) is not { } text)
        {
            return fallback;
        }

        if (!GoDuration.TryParse(text, out var value) || value < TimeSpan.Zero)
        {
            throw new CliUsageException($"invalid {name} '{text}': use a duration like 30s, 5m, 1h30m or 500ms");
        }

        if (value == TimeSpan.Zero)
        {
            return allowZero ? value : fallback;
        }

        return value;
    }

    public static int IntOr(string? flag, string name, int fallback, int min, int max = int.MaxValue)
    {
        if (Blank(flag) is not { } text)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < 0 || value > max)
        {
            throw new CliUsageException($"invalid {name} '{text}': expected an integer between {min} and {max}");
        }

        return value == 0 && min > 0 ? fallback : value;
    }

    public static string? ParseIp(string? flag)
    {
        if (Blank(flag) is not { } text)
        {
            return null;
        }

        if (!IPAddress.TryParse(text, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new CliUsageException($"invalid --ip '{text}': expected an IPv4 address");
        }

        return ip.ToString();
    }

    private static IReadOnlyList<byte[]> ReadCaCerts(IEnumerable<string> files, string currentDirectory)
    {
        var certs = new List<byte[]>();
        foreach (var file in files)
        {
            try
            {
                var bytes = File.ReadAllBytes(FullPath(file, "--cacerts", currentDirectory));
                if (!System.Text.Encoding.ASCII.GetString(bytes).Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
                {
                    throw new CliUsageException($"invalid --cacerts '{file}': not a PEM certificate file");
                }

                certs.Add(bytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliUsageException($"cannot read --cacerts '{file}': {e.Message}");
            }
        }

        return certs;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
