using CommandLine;
using CommandLine.Text;
using Dragonfly.Common.Errors;
using Microsoft.Extensions.Options;

namespace Dragonfly.Supernode.Hosting;

/// <summary>
/// The supernode command line (§2.1): flags with the original's names and defaults, <c>--config</c> YAML underneath them,
/// and the <c>version</c> and <c>config default</c> subcommands. Every problem becomes one clear line and a non-zero exit code.
/// </summary>
public static class SupernodeCommandLine
{
    public const int ExitOk = 0;
    public const int ExitUsage = 2;
    public const int ExitConfig = 10;
    public const int ExitStartup = 1;

    /// <summary>Host settings a hosting tool (e.g. WebApplicationFactory) may pass as <c>--key=value</c>; forwarded to the host untouched.</summary>
    private static readonly string[] HostKeys = ["contentRoot", "environment", "applicationName", "urls"];

    /// <summary>The outcome of parsing: options to run with, or an exit code (help, version, errors).</summary>
    public sealed record ParseResult(SupernodeOptions? Options, int ExitCode, string[] HostArgs);

    /// <summary>Parses, runs <paramref name="run"/> with the options, and turns configuration failures into one line on stderr.</summary>
    public static async Task<int> RunAsync(string[] args, Func<SupernodeOptions, string[], Task<int>> run, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var parsed = Parse(args, stdout, stderr, File.Exists, File.ReadAllText, Environment.GetEnvironmentVariable);
        if (parsed.Options is null)
        {
            return parsed.ExitCode;
        }

        try
        {
            return await run(parsed.Options, parsed.HostArgs).ConfigureAwait(false);
        }
        catch (SupernodeConfigurationException e)
        {
            await stderr.WriteLineAsync(ErrorLine(e.Message)).ConfigureAwait(false);
            return ExitConfig;
        }
        catch (OptionsValidationException e)
        {
            await stderr.WriteLineAsync(ErrorLine($"invalid configuration: {string.Join("; ", e.Failures)}")).ConfigureAwait(false);
            return ExitConfig;
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            await stderr.WriteLineAsync(ErrorLine($"cannot listen: {e.Message}")).ConfigureAwait(false);
            return ExitStartup;
        }
    }

    /// <summary>
    /// Parses the command line. File and environment access are injected so tests need no real <c>/etc</c>. Settings apply
    /// in order: defaults, the YAML file, <c>SUPERNODE_*</c> environment variables, then the command line's flags.
    /// </summary>
    public static ParseResult Parse(
        string[] args, TextWriter stdout, TextWriter stderr, Func<string, bool> fileExists, Func<string, string> readFile,
        Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(fileExists);
        ArgumentNullException.ThrowIfNull(readFile);

        var hostArgs = args.Where(IsHostArg).ToArray();
        var ownArgs = args.Where(a => !IsHostArg(a)).ToArray();
        var fromEnvironment = FlagsFromEnvironment(ownArgs, environment);
        if (fromEnvironment.Error is { } envError)
        {
            WriteError(stderr, envError);
            return new ParseResult(null, ExitConfig, hostArgs);
        }

        ownArgs = [.. fromEnvironment.Flags, .. ownArgs];

        using var parser = new Parser(s =>
        {
            s.HelpWriter = null;
            s.CaseSensitive = true;
            s.AutoVersion = true;
            s.AutoHelp = true;
        });
        var result = parser.ParseArguments<RunVerb, VersionVerb, ConfigVerb>(ownArgs);

        if (result is NotParsed<object> notParsed)
        {
            if (notParsed.Errors.Any(e => e.Tag is ErrorType.HelpRequestedError or ErrorType.HelpVerbRequestedError))
            {
                stdout.WriteLine(Help(parser, ownArgs));
                return new ParseResult(null, ExitOk, hostArgs);
            }

            if (notParsed.Errors.Any(e => e.Tag == ErrorType.VersionRequestedError))
            {
                stdout.WriteLine(VersionLine());
                return new ParseResult(null, ExitOk, hostArgs);
            }

            var sentence = SentenceBuilder.Create();
            var messages = notParsed.Errors.Select(e => sentence.FormatError(e)).Where(m => m.Length > 0);
            var fromEnv = fromEnvironment.Flags.Count == 0 ? string.Empty : $" (with flags from the environment: {string.Join(' ', fromEnvironment.Flags)})";
            WriteError(stderr, $"{string.Join("; ", messages)}{fromEnv} (see 'supernode --help')");
            return new ParseResult(null, ExitUsage, hostArgs);
        }

        switch (((Parsed<object>)result).Value)
        {
            case VersionVerb:
                stdout.WriteLine(VersionLine());
                return new ParseResult(null, ExitOk, hostArgs);
            case ConfigVerb config:
                if (!string.Equals(config.Action, "default", StringComparison.Ordinal))
                {
                    WriteError(stderr, $"unknown config action '{config.Action}' (only 'config default' exists)");
                    return new ParseResult(null, ExitUsage, hostArgs);
                }

                stdout.Write(SupernodeConfigFile.Render(new SupernodeOptions()));
                return new ParseResult(null, ExitOk, hostArgs);
            case RunVerb run:
                try
                {
                    var options = Build(run, fileExists, readFile, environment);
                    var errors = options.ValidationErrors();
                    if (errors.Count > 0)
                    {
                        WriteError(stderr, $"invalid configuration: {string.Join("; ", errors)}");
                        return new ParseResult(null, ExitConfig, hostArgs);
                    }

                    return new ParseResult(options, ExitOk, hostArgs);
                }
                catch (SupernodeConfigurationException e)
                {
                    WriteError(stderr, e.Message);
                    return new ParseResult(null, ExitConfig, hostArgs);
                }

            default:
                return new ParseResult(null, ExitUsage, hostArgs);
        }
    }

    /// <summary>An error for stderr: one line however many the values it quotes had (a flag, a variable, a YAML string).</summary>
    private static string ErrorLine(string message) => "supernode: " + ErrorText.OneLine(message);

    private static void WriteError(TextWriter stderr, string message) => stderr.WriteLine(ErrorLine(message));

    private static string VersionLine()
    {
        var v = SupernodeVersion.Current;
        return $"supernode version {v.Version} (revision {v.Revision}, built {v.BuildDate}, runtime {v.GoVersion}, {v.OS}/{v.Arch})";
    }

    /// <summary>Usage: the run flags, then the subcommands.</summary>
    private static string Help(Parser parser, string[] args)
    {
        var flagsOnly = args.Where(a => a is not ("run" or "help")).ToArray();
        var runResult = parser.ParseArguments<RunVerb>(flagsOnly.Length == 0 ? ["--help"] : flagsOnly);
        var help = HelpText.AutoBuild(runResult, h =>
        {
            h.Heading = $"supernode {SupernodeVersion.Current.Version}: the Dragonfly tracker, scheduler and CDN cache";
            h.Copyright = "Usage: supernode [flags] | supernode version | supernode config default";
            h.AdditionalNewLineAfterOption = false;
            h.AutoVersion = false;
            return h;
        }, e => e);
        return help + Environment.NewLine + Environment.NewLine +
               "Commands:" + Environment.NewLine +
               "  (none)          run the supernode" + Environment.NewLine +
               "  version         print the version" + Environment.NewLine +
               "  config default  print the default configuration (YAML)";
    }

    /// <summary>The prefix of the environment variables that stand for run flags: <c>--download-port</c> is <c>SUPERNODE_DOWNLOAD_PORT</c>.</summary>
    public const string EnvironmentPrefix = "SUPERNODE_";

    /// <summary>
    /// The run flags that <c>SUPERNODE_*</c> variables set, as command-line flags (so they get the flags' parsing and
    /// validation), for every flag the command line does not give itself. Only for the run command: <c>version</c> and
    /// <c>config default</c> ignore the environment. A switch takes <c>true</c> or <c>false</c>.
    /// </summary>
    internal static (IReadOnlyList<string> Flags, string? Error) FlagsFromEnvironment(string[] args, Func<string, string?>? environment)
    {
        if (environment is null || (args.Length > 0 && !args[0].StartsWith('-')))
        {
            return ([], null);
        }

        var flags = new List<string>();
        foreach (var property in typeof(RunVerb).GetProperties())
        {
            if (property.GetCustomAttributes(typeof(OptionAttribute), inherit: false).FirstOrDefault() is not OptionAttribute option)
            {
                continue;
            }

            var name = option.LongName;
            var given = args.Any(a => a == "--" + name || a.StartsWith("--" + name + "=", StringComparison.Ordinal)
                || (option.ShortName.Length > 0 && a == "-" + option.ShortName));
            var variable = EnvironmentPrefix + name.ToUpperInvariant().Replace('-', '_');
            var value = environment(variable);
            if (given || string.IsNullOrEmpty(value))
            {
                continue;
            }

            if (property.PropertyType == typeof(bool))
            {
                if (!bool.TryParse(value, out var on))
                {
                    return ([], $"invalid configuration: {variable}={value}: use true or false");
                }

                if (on)
                {
                    flags.Add("--" + name);
                }
            }
            else
            {
                flags.Add($"--{name}={value}");
            }
        }

        return (flags, null);
    }

    private static bool IsHostArg(string arg) =>
        HostKeys.Any(k => arg.StartsWith($"--{k}=", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Defaults, then the YAML file, then the flags (the <c>SUPERNODE_*</c> variables are flags by now, except
    /// <c>SUPERNODE_ADMIN_TOKEN</c>, applied between the file and the flags); last, the admin token file is read.
    /// </summary>
    private static SupernodeOptions Build(RunVerb run, Func<string, bool> fileExists, Func<string, string> readFile, Func<string, string?>? environment)
    {
        var options = new SupernodeOptions();
        var configPath = run.Config ?? SupernodeOptions.DefaultConfigPath;
        if (fileExists(configPath))
        {
            string yaml;
            try
            {
                yaml = readFile(configPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SupernodeConfigurationException($"cannot read config {configPath}: {e.Message}", e);
            }

            options = SupernodeConfigFile.Apply(options, yaml, configPath);
        }
        else if (run.Config is not null)
        {
            throw new SupernodeConfigurationException($"config file {run.Config} does not exist");
        }

        const string Flag = "flag --";
        if (run.CdnPattern is { } pattern)
        {
            options = options with { CdnPattern = pattern.Trim().ToLowerInvariant() };
        }

        options = run.Port is { } port ? options with { ListenPort = port } : options;
        options = run.DownloadPort is { } downloadPort ? options with { DownloadPort = downloadPort } : options;
        options = run.HomeDir is { } home ? options with { HomeDir = home } : options;
        options = run.SystemBandwidth is { } sys ? options with { SystemReservedBandwidth = SupernodeConfigFile.RateOf(sys, Flag + "system-bandwidth") } : options;
        options = run.MaxBandwidth is { } max ? options with { MaxBandwidth = SupernodeConfigFile.RateOf(max, Flag + "max-bandwidth") } : options;
        options = run.PoolSize is { } pool ? options with { SchedulerCorePoolSize = pool } : options;
        options = run.Profiler ? options with { EnableProfiler = true } : options;
        options = run.Debug ? options with { Debug = true } : options;
        options = run.UpLimit is { } up ? options with { PeerUpLimit = up } : options;
        options = run.DownLimit is { } down ? options with { PeerDownLimit = down } : options;
        options = run.CdnLoadLimit is { } cdnLoad ? options with { CdnLoadLimit = cdnLoad } : options;
        options = run.AdvertiseIp is { } ip ? options with { AdvertiseIp = ip } : options;
        options = run.FailAccessInterval is { } fai ? options with { FailAccessInterval = SupernodeConfigFile.Duration(fai, Flag + "fail-access-interval") } : options;
        options = run.GcInitialDelay is { } gid ? options with { GcInitialDelay = SupernodeConfigFile.Duration(gid, Flag + "gc-initial-delay") } : options;
        options = run.GcMetaInterval is { } gmi ? options with { GcMetaInterval = SupernodeConfigFile.Duration(gmi, Flag + "gc-meta-interval") } : options;
        options = run.TaskExpireTime is { } tet ? options with { TaskExpireTime = SupernodeConfigFile.Duration(tet, Flag + "task-expire-time") } : options;
        options = run.PeerGcDelay is { } pgd ? options with { PeerGcDelay = SupernodeConfigFile.Duration(pgd, Flag + "peer-gc-delay") } : options;
        options = AdminTokenSettings.ApplyEnvironment(options, environment);
        options = run.AdminTokenFile is { } tokenFile ? options with { AdminTokenFile = tokenFile, AdminToken = null } : options;
        options = run.AdminProtectReads ? options with { AdminProtectReads = true } : options;
        return AdminTokenSettings.ReadFile(options, fileExists, readFile);
    }

    [Verb("run", isDefault: true, HelpText = "Run the supernode (the default command).")]
    internal sealed class RunVerb
    {
        [Option("config", HelpText = "YAML config file ('base:' keys); ignored when the default path is missing. Default /etc/dragonfly/supernode.yml")]
        public string? Config { get; set; }

        [Option("cdn-pattern", HelpText = "CDN pattern: local (cache and serve pieces) or source (peers read the source). Default local")]
        public string? CdnPattern { get; set; }

        [Option("port", HelpText = "API listen port. Default 8002")]
        public int? Port { get; set; }

        [Option("download-port", HelpText = "Port serving CDN pieces (/download/...). Default 8001")]
        public int? DownloadPort { get; set; }

        [Option("home-dir", HelpText = "Work home (repo, logs). Default /home/admin/supernode")]
        public string? HomeDir { get; set; }

        [Option("system-bandwidth", HelpText = "Bandwidth reserved for the system, e.g. 20MB. Default 20MB")]
        public string? SystemBandwidth { get; set; }

        [Option("max-bandwidth", HelpText = "Total bandwidth; the CDN source rate is max minus system. Default 200MB")]
        public string? MaxBandwidth { get; set; }

        [Option("pool-size", HelpText = "Scheduler core pool size (accepted for compatibility). Default 10")]
        public int? PoolSize { get; set; }

        [Option("profiler", HelpText = "Accepted for compatibility; profile with dotnet-counters / dotnet-trace.")]
        public bool Profiler { get; set; }

        [Option('D', "debug", HelpText = "Debug-level logging.")]
        public bool Debug { get; set; }

        [Option("up-limit", HelpText = "Max concurrent uploads per peer. Default 5")]
        public int? UpLimit { get; set; }

        [Option("down-limit", HelpText = "Max concurrent downloads per client. Default 4")]
        public int? DownLimit { get; set; }

        [Option("cdn-load-limit", HelpText = "Max pieces the supernode serves at once per task. Default 0: the down-limit, as in the original")]
        public int? CdnLoadLimit { get; set; }

        [Option("advertise-ip", HelpText = "IPv4 address peers use to reach this supernode. Default: first non-loopback IPv4")]
        public string? AdvertiseIp { get; set; }

        [Option("fail-access-interval", HelpText = "How long an unreachable source URL is remembered. Default 3m")]
        public string? FailAccessInterval { get; set; }

        [Option("gc-initial-delay", HelpText = "Delay before the first GC. Default 6s")]
        public string? GcInitialDelay { get; set; }

        [Option("gc-meta-interval", HelpText = "Interval of task and peer GC. Default 2m")]
        public string? GcMetaInterval { get; set; }

        [Option("task-expire-time", HelpText = "Idle time after which a task is collected. Default 3m")]
        public string? TaskExpireTime { get; set; }

        [Option("peer-gc-delay", HelpText = "Delay before a service-down peer is collected. Default 3m")]
        public string? PeerGcDelay { get; set; }

        [Option("admin-token-file", HelpText = "File holding the admin token that the management routes (preheats, task and peer deletion) then need as 'Authorization: Bearer <token>'. Default: none, every route open (SUPERNODE_ADMIN_TOKEN also sets the token)")]
        public string? AdminTokenFile { get; set; }

        [Option("admin-protect-reads", HelpText = "With an admin token, also require it for the read-only views (peers, tasks, swarm, preheats).")]
        public bool AdminProtectReads { get; set; }
    }

    [Verb("version", HelpText = "Print the version.")]
    internal sealed class VersionVerb
    {
    }

    [Verb("config", HelpText = "'config default' prints the default YAML configuration.")]
    internal sealed class ConfigVerb
    {
        [Value(0, MetaName = "action", Required = true, HelpText = "default")]
        public string Action { get; set; } = string.Empty;
    }
}
