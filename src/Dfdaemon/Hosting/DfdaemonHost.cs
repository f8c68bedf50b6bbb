using System.Net;
using System.Security.Cryptography.X509Certificates;
using Dragonfly.Common.Hosting;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Proxy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Hosting;

/// <summary>Builds the dfdaemon web host: one Kestrel endpoint (loopback by default) with the CONNECT connection middleware and the request handler.</summary>
public static class DfdaemonHost
{
    /// <param name="configureServices">Runs before <c>AddDfdaemon</c>, so registrations made here win (tests swap the blob fetcher).</param>
    public static WebApplication Build(DfdaemonOptions options, Action<IServiceCollection>? configureServices = null, Action<ILoggingBuilder>? configureLogging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = DaemonHostArguments.With([]) });
        if (configureLogging is not null)
        {
            builder.Logging.ClearProviders();
            configureLogging(builder.Logging);
        }

        if (options.ServeHttps)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        configureServices?.Invoke(builder.Services);
        builder.Services.AddDfdaemon(options);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinResponseDataRate = null;
            var address = options.ListenAddress == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.ListenAddress);
            kestrel.Listen(address, options.Port, listen =>
            {
                listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1;
                if (options.ServeHttps)
                {
                    listen.UseHttps(X509Certificate2.CreateFromPemFile(options.CertPem!, options.KeyPem));
                }

                var connect = kestrel.ApplicationServices.GetRequiredService<ConnectHandler>();
                listen.Use(next => connection => connect.OnConnectionAsync(connection, next));
            });
        });

        var app = builder.Build();
        var handler = app.Services.GetRequiredService<DfdaemonRequestHandler>();
        app.Run(handler.HandleAsync);
        return app;
    }

    /// <summary>The address Kestrel bound (after start): useful with port 0.</summary>
    public static Uri BoundAddress(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            ?? throw new InvalidOperationException("server has no addresses");
        return new Uri(addresses.First());
    }
}
