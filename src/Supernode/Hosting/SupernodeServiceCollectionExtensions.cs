using System.Net;
using Dragonfly.Supernode.Admin;
using Dragonfly.Supernode.Api;
using Dragonfly.Supernode.Hosting;
using Dragonfly.Supernode.Managers;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Metrics;
using Dragonfly.Supernode.Origin;
using Dragonfly.Supernode.Preheat;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Events;
using ManagersCdnPattern = Dragonfly.Supernode.Managers.CdnPattern;
using CdnCdnPattern = Dragonfly.Supernode.Managers.Cdn.CdnPattern;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The supernode's composition root: <c>builder.Services.AddSupernode(options)</c>.</summary>
public static class SupernodeServiceCollectionExtensions
{
    /// <summary>
    /// Registers everything a supernode needs: validated options, the runtime facts (advertise IP, ports), Serilog logging to
    /// the console and <c>&lt;home&gt;/logs/app.log</c>, Kestrel on the API and download ports, the tracker managers, the
    /// CDN, metrics, preheats, the admin token policy (with its lockouts, refusal log and counters) and the startup service.
    /// Parts registered earlier (tests) win, as everything uses TryAdd.
    /// </summary>
    /// <param name="listenAddress">Where Kestrel listens; the original always listens on 0.0.0.0 (tests pass loopback).</param>
    /// <exception cref="SupernodeConfigurationException">No advertise IP can be found (pass <c>--advertise-ip</c>).</exception>
    public static IServiceCollection AddSupernode(this IServiceCollection services, SupernodeOptions options, IPAddress? listenAddress = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        listenAddress ??= IPAddress.Any;

        var advertiseIp = SupernodeRuntime.ResolveAdvertiseIp(options.AdvertiseIp);
        var apiPort = PortReservation.Resolve(options.ListenPort, listenAddress);
        var downloadPort = PortReservation.Resolve(options.DownloadPort, listenAddress);
        var runtime = new SupernodeRuntime(advertiseIp, apiPort, downloadPort);

        // Options: one immutable instance, validated at start (DataAnnotations + IValidatableObject).
        services.AddOptions<SupernodeOptions>().ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IOptionsFactory<SupernodeOptions>>(sp => new FixedOptionsFactory<SupernodeOptions>(options, sp.GetServices<IValidateOptions<SupernodeOptions>>()));
        services.TryAddSingleton(runtime);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<Func<Random>>(() => new Random());

        services.AddSupernodeLogging(options);
        services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.Listen(listenAddress, runtime.ApiPort);
            kestrel.Listen(listenAddress, runtime.DownloadPort, listen => listen.UseDownloadPort());
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(10);
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromMinutes(10);
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodySize;
            kestrel.AddServerHeader = false;
        });
        services.Configure<RouteOptions>(r => r.SetParameterPolicy<VersionRouteConstraint>(VersionRouteConstraint.Name));

        services.AddSupernodeManagers(sp => new TrackerOptions
        {
            PeerUpLimit = options.PeerUpLimit,
            PeerDownLimit = options.PeerDownLimit,
            CdnLoadLimit = options.CdnLoadLimit,
            EliminationLimit = options.EliminationLimit,
            FailureCountLimit = options.FailureCountLimit,
            TaskExpireTime = options.TaskExpireTime,
            PeerGcDelay = options.PeerGcDelay,
            GcInitialDelay = options.GcInitialDelay,
            GcMetaInterval = options.GcMetaInterval,
            FailAccessInterval = options.FailAccessInterval,
            AdvertiseIp = runtime.AdvertiseIp,
            DownloadPort = runtime.DownloadPort,
            Version = SupernodeVersion.Current.Version ?? "1.0.6",
            CdnPattern = options.CdnPattern == "source" ? ManagersCdnPattern.Source : ManagersCdnPattern.Local,
        });
        services.Configure<CdnOptions>(cdn =>
        {
            cdn.HomeDir = options.HomeDir;
            cdn.CdnPattern = options.CdnPattern == "source" ? CdnCdnPattern.Source : CdnCdnPattern.Local;
            cdn.MaxBandwidth = options.MaxBandwidth;
            cdn.SystemBandwidth = options.SystemReservedBandwidth;
            cdn.DownloadPort = runtime.DownloadPort;
            cdn.DiskGcInterval = options.GcDiskInterval;
            cdn.YoungGcThresholdBytes = options.YoungGcThreshold;
            cdn.FullGcThresholdBytes = options.FullGcThreshold;
            cdn.IntervalThreshold = options.IntervalThreshold;
            cdn.CleanRatio = options.CleanRatio;
            cdn.SourceHeadersTimeout = options.SourceHeadersTimeout;
            cdn.SourceIdleTimeout = options.SourceIdleTimeout;
        });
        services.TryAddSingleton(new SourceAddressPolicy(options.SourceAllow, options.SourceDeny));
        services.AddSupernodeCdn();
        services.AddSupernodeDownloadPort();

        services.AddMetrics();
        services.TryAddSingleton<PrometheusExporter>();
        services.TryAddSingleton<SupernodeApiMetrics>();
        services.TryAddSingleton<DfgetReportLedger>();
        services.TryAddSingleton<PreheatService>();
        services.TryAddSingleton<LegacyErrorFilter>();
        services.TryAddSingleton<V1ErrorFilter>();
        // Protecting the views without a token is a validation failure reported at start (ValidateOnStart), not here.
        services.TryAddSingleton(new AdminAccessPolicy(options.AdminToken, options.AdminProtectReads && options.AdminToken is not null));
        services.TryAddSingleton(sp => new AdminLockouts(
            new AdminLockoutOptions(options.AdminMaxFailures, options.AdminFailureWindow, options.AdminLockout), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<AdminRefusalLog>();
        services.TryAddSingleton<AdminMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SupernodeStartupService>());
        return services;
    }

    /// <summary>Serilog as the logging provider: console plus <c>&lt;home&gt;/logs/app.log</c> (40 MB files, 5 kept).</summary>
    public static IServiceCollection AddSupernodeLogging(this IServiceCollection services, SupernodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Template = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} {Level:u4} sign:{Pid} : {Message:lj}{NewLine}{Exception}";
        var logger = new LoggerConfiguration()
            .MinimumLevel.Is(options.Debug ? LogEventLevel.Debug : LogEventLevel.Information)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .Enrich.WithProperty("Pid", Environment.ProcessId)
            .Enrich.With<Dragonfly.Common.Logging.RedactingEnricher>()
            .WriteTo.Console(outputTemplate: Template, formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .WriteTo.File(
                Path.Combine(options.HomeDir, "logs", "app.log"),
                outputTemplate: Template,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                fileSizeLimitBytes: 40L * 1024 * 1024,
                rollOnFileSizeLimit: true,
                retainedFileCountLimit: 5)
            .CreateLogger();
        return services.AddLogging(b => b.ClearProviders().AddSerilog(logger, dispose: true));
    }

    /// <summary>Returns the one bound instance after running the registered validators (so ValidateOnStart still applies).</summary>
    private sealed class FixedOptionsFactory<T>(T value, IEnumerable<IValidateOptions<T>> validators) : IOptionsFactory<T>
        where T : class
    {
        public T Create(string name)
        {
            var failures = validators.Select(v => v.Validate(name, value)).Where(r => r.Failed).SelectMany(r => r.Failures ?? []).ToList();
            return failures.Count > 0 ? throw new OptionsValidationException(name, typeof(T), failures) : value;
        }
    }
}
