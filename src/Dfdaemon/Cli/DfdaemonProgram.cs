using System.Collections;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Hosting;
using Dragonfly.Dfdaemon.Tls;
using Microsoft.AspNetCore.Builder;
using Serilog;
using Serilog.Events;

namespace Dragonfly.Dfdaemon.Cli;

/// <summary>The dfdaemon command: parses flags/config/env, runs a subcommand or the daemon, and maps failures to exit codes.</summary>
public static class DfdaemonProgram
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            var commandLine = DfdaemonCommandLine.Parse(args);
            switch (commandLine.Command)
            {
                case DfdaemonCommand.Help:
                    await stdout.WriteLineAsync(DfdaemonCommandLine.Usage()).ConfigureAwait(false);
                    return 0;
                case DfdaemonCommand.Version:
                    await stdout.WriteLineAsync("dfdaemon version " + DfdaemonVersion.Current).ConfigureAwait(false);
                    return 0;
                case DfdaemonCommand.ConfigDefault:
                    await stdout.WriteAsync(DfdaemonConfigLoader.DefaultYaml()).ConfigureAwait(false);
                    return 0;
                case DfdaemonCommand.GenCa:
                    return await GenCaAsync(commandLine, stdout).ConfigureAwait(false);
            }

            var options = DfdaemonConfigLoader.Load(commandLine, Environment(), UserHome());
            Prepare(options);
            return await ServeAsync(options, stdout, cancellationToken).ConfigureAwait(false);
        }
        catch (DfdaemonConfigException e)
        {
            await stderr.WriteLineAsync("dfdaemon: " + e.Message).ConfigureAwait(false);
            return (int)e.ExitCode;
        }
    }

    private static async Task<int> ServeAsync(DfdaemonOptions options, TextWriter stdout, CancellationToken cancellationToken)
    {
        var logger = new LoggerConfiguration()
            .MinimumLevel.Is(options.Verbose ? LogEventLevel.Debug : LogEventLevel.Information)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .Enrich.With<Dragonfly.Common.Logging.RedactingEnricher>()
            .WriteTo.File(Path.Combine(options.LogsDir, "dfdaemon.log"), fileSizeLimitBytes: 100L * 1024 * 1024, rollOnFileSizeLimit: true, retainedFileCountLimit: 5)
            .WriteTo.Console(restrictedToMinimumLevel: options.Verbose ? LogEventLevel.Debug : LogEventLevel.Warning, standardErrorFromLevel: LogEventLevel.Verbose)
            .CreateLogger();
        try
        {
            var app = DfdaemonHost.Build(options, configureLogging: logging => logging.AddSerilog(logger, dispose: false));
            await using (app.ConfigureAwait(false))
            {
                try
                {
                    await app.StartAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    throw new DfdaemonConfigException(DfdaemonExitCode.StartFail, $"cannot listen on {options.ListenAddress}:{options.Port}: {e.Message}");
                }

                await stdout.WriteLineAsync($"dfdaemon {DfdaemonVersion.Current} listening on {app.BoundAddress()} (mirror of {options.RegistryMirror.Remote})").ConfigureAwait(false);
                await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            }

            return 0;
        }
        finally
        {
            await logger.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Creates the work home, logs dir and local repo (exit 11 / 16 on failure).</summary>
    internal static void Prepare(DfdaemonOptions options)
    {
        try
        {
            Directory.CreateDirectory(options.WorkHome);
            Directory.CreateDirectory(options.LogsDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.HomeMissing, $"cannot create work home {options.WorkHome}: {e.Message}");
        }

        try
        {
            Directory.CreateDirectory(options.LocalRepo);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.RepoCreateFail, $"cannot create localrepo {options.LocalRepo}: {e.Message}");
        }
    }

    private static async Task<int> GenCaAsync(DfdaemonCommandLine commandLine, TextWriter stdout)
    {
        var o = commandLine.SubcommandOptions;
        var cert = o.GetValueOrDefault("cert") ?? "ca.crt";
        var key = o.GetValueOrDefault("key") ?? "ca.key";
        var cn = o.GetValueOrDefault("cn") ?? "dfdaemon CA";
        var daysText = o.GetValueOrDefault("days") ?? "3650";
        if (!int.TryParse(daysText, System.Globalization.CultureInfo.InvariantCulture, out var days) || days <= 0)
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"invalid --days '{daysText}'");
        }

        var unknown = o.Keys.Except(["cert", "key", "cn", "days"], StringComparer.OrdinalIgnoreCase).ToList();
        if (unknown.Count > 0)
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.Usage, $"gen-ca: unknown flag --{unknown[0]} (flags: --cert --key --cn --days)");
        }

        if (File.Exists(cert) || File.Exists(key))
        {
            throw new DfdaemonConfigException(DfdaemonExitCode.ConfigError, $"gen-ca: {(File.Exists(cert) ? cert : key)} already exists; not overwriting");
        }

        using var ca = CertificateAuthority.CreateCa(cn, TimeSpan.FromDays(days), TimeProvider.System);
        CertificateAuthority.WritePem(ca, cert, key);
        await stdout.WriteLineAsync($"CA certificate written to {cert}, private key to {key} (mode 0600); trust {cert} on clients and set hijack_https.cert/key").ConfigureAwait(false);
        return 0;
    }

    private static Dictionary<string, string> Environment()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            if (e.Key is string k && k.StartsWith(DfdaemonConfigLoader.EnvPrefix, StringComparison.Ordinal) && e.Value is string v)
            {
                result[k] = v;
            }
        }

        return result;
    }

    private static string? UserHome()
    {
        var home = System.Environment.GetEnvironmentVariable("HOME");
        return string.IsNullOrEmpty(home) ? System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile) : home;
    }
}
