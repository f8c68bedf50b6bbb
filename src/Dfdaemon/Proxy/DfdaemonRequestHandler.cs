using System.Text;
using Dragonfly.Common.Security;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.Dfdaemon.Downloading;
using Dragonfly.Dfdaemon.Hosting;
using Dragonfly.Dfdaemon.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>
/// The terminal request handler: requests inside a hijacked tunnel (always for the tunnel's own host and port) and absolute-URI
/// requests go through the proxy rules and policy; relative requests are local endpoints (<c>/_ping</c>, <c>/args</c>,
/// <c>/env</c>, <c>/debug/version</c>, <c>/metrics</c>) or the registry mirror, built from the target as the client sent it.
/// A <c>CONNECT</c> that gets here (not the first request of its connection) is refused: see <see cref="ConnectHandler"/>.
/// </summary>
public sealed partial class DfdaemonRequestHandler
{
    private readonly DfdaemonOptions _options;
    private readonly ProxyRouter _router;
    private readonly HttpForwarder _forwarder;
    private readonly BlobResponder _blobs;
    private readonly DfdaemonMetrics _metrics;
    private readonly ILogger<DfdaemonRequestHandler> _logger;

    public DfdaemonRequestHandler(DfdaemonOptions options, ProxyRouter router, HttpForwarder forwarder, BlobResponder blobs, DfdaemonMetrics metrics, ILogger<DfdaemonRequestHandler> logger)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _router = router ?? throw new ArgumentNullException(nameof(router));
        _forwarder = forwarder ?? throw new ArgumentNullException(nameof(forwarder));
        _blobs = blobs ?? throw new ArgumentNullException(nameof(blobs));
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ct = context.RequestAborted;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var hijacked = context.Features.Get<HijackedConnectionFeature>();

        // Tunnels are opened by the connection middleware, which sees only a connection's first request. A later CONNECT
        // (after a keep-alive GET) must not become an ordinary request to the mirror: refuse it, and close the connection.
        if (HttpMethods.IsConnect(context.Request.Method))
        {
            Log.LateConnect(_logger, rawTarget);
            context.Response.Headers.Connection = "close";
            await PlainAsync(context, StatusCodes.Status400BadRequest, "dfdaemon: CONNECT must be the first request on a connection\n").ConfigureAwait(false);
            return;
        }

        RouteDecision decision;
        if (hijacked is not null)
        {
            if (hijacked.UrlFor(rawTarget) is not { } url)
            {
                Log.OffTunnelTarget(_logger, rawTarget, hijacked.Authority);
                await PlainAsync(context, StatusCodes.Status400BadRequest, "dfdaemon: a request inside a tunnel to " + hijacked.Authority + " can only be for that host\n").ConfigureAwait(false);
                return;
            }

            decision = _router.DecideProxy(context.Request.Method, url);
        }
        else if (IsAbsolute(rawTarget) && !IsSelf(rawTarget, context))
        {
            if (!Uri.TryCreate(rawTarget, UriKind.Absolute, out var url))
            {
                await PlainAsync(context, StatusCodes.Status400BadRequest, "invalid request URL\n").ConfigureAwait(false);
                return;
            }

            decision = _router.DecideProxy(context.Request.Method, url);
        }
        else
        {
            if (await TryLocalEndpointAsync(context).ConfigureAwait(false))
            {
                return;
            }

            decision = _router.DecideMirror(context.Request.Method, MirrorTarget(rawTarget, context.Request));
        }

        switch (decision.Kind)
        {
            case RouteKind.Deny:
                _metrics.RequestDenied();
                Log.Denied(_logger, context.Request.Method, rawTarget, decision.Reason ?? string.Empty);
                await PlainAsync(context, StatusCodes.Status403Forbidden, "dfdaemon: " + decision.Reason + "\n").ConfigureAwait(false);
                break;
            case RouteKind.P2p:
                await _blobs.ServeAsync(context, decision.Target!, decision.Sha256, ct).ConfigureAwait(false);
                break;
            default:
                await _forwarder.ForwardAsync(context, decision.Target!, ct).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>An absolute URI naming dfdaemon itself is served locally (never forwarded to itself in a loop).</summary>
    private static bool IsSelf(string rawTarget, HttpContext context)
    {
        if (!Uri.TryCreate(rawTarget, UriKind.Absolute, out var url) || url.Port != context.Connection.LocalPort)
        {
            return false;
        }

        if (string.Equals(url.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return System.Net.IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip)
            && (System.Net.IPAddress.IsLoopback(ip) || ip.Equals(context.Connection.LocalIpAddress));
    }

    /// <summary>
    /// The origin-form target for the mirror, still percent-encoded as the client sent it (Kestrel's <c>Path</c> is decoded:
    /// <c>%3F</c> would become a query and <c>%25</c> be decoded twice). An absolute URI naming dfdaemon itself gives its path and
    /// query; another form (<c>*</c>) the re-encoded path.
    /// </summary>
    private static string MirrorTarget(string rawTarget, HttpRequest request)
    {
        if (rawTarget.StartsWith('/'))
        {
            return rawTarget;
        }

        if (IsAbsolute(rawTarget))
        {
            var afterScheme = rawTarget.IndexOf("//", StringComparison.Ordinal) + 2;
            var slash = rawTarget.IndexOfAny(['/', '?'], afterScheme);
            return slash < 0 ? "/" : rawTarget[slash] == '/' ? rawTarget[slash..] : "/" + rawTarget[slash..];
        }

        return request.Path.ToUriComponent() + request.QueryString.ToUriComponent();
    }

    private static bool IsAbsolute(string rawTarget) =>
        rawTarget.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || rawTarget.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    private static Task PlainAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    private async Task<bool> TryLocalEndpointAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            return false;
        }

        switch (context.Request.Path.Value)
        {
            case "/_ping":
                await PlainAsync(context, 200, "OK").ConfigureAwait(false);
                return true;
            case "/debug/version":
                await PlainAsync(context, 200, "dfdaemon version " + DfdaemonVersion.Current + "\n").ConfigureAwait(false);
                return true;
            case "/args":
                await PlainAsync(context, 200, string.Join(' ', _options.Args.Select(Redact.Argument)) + "\n").ConfigureAwait(false);
                return true;
            case "/env":
                await PlainAsync(context, 200, EnvText()).ConfigureAwait(false);
                return true;
            case "/metrics":
                context.Response.StatusCode = 200;
                context.Response.ContentType = "text/plain; version=0.0.4";
                await context.Response.WriteAsync(_metrics.ToPrometheusText(), context.RequestAborted).ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Only dfdaemon's own variables (DFDAEMON_*) and proxy settings, with credential-looking values redacted.</summary>
    private static string EnvText()
    {
        var sb = new StringBuilder();
        var env = Environment.GetEnvironmentVariables();
        foreach (var key in env.Keys.Cast<string>().Order(StringComparer.Ordinal))
        {
            if (!Redact.IsShownEnv(key))
            {
                continue;
            }

            sb.Append(key).Append('=').Append(Redact.EnvValue(key, env[key] as string ?? string.Empty)).Append('\n');
        }

        return sb.ToString();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 30, Level = LogLevel.Information, Message = "Refused {Method} {Target}: {Reason}")]
        public static partial void Denied(ILogger logger, string method, string target, string reason);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 31, Level = LogLevel.Information, Message = "Refused {Target} inside the tunnel to {Authority}: a tunnel reaches only its own host")]
        public static partial void OffTunnelTarget(ILogger logger, string target, string authority);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 32, Level = LogLevel.Information, Message = "Refused CONNECT {Target}: not the first request on its connection")]
        public static partial void LateConnect(ILogger logger, string target);
    }
}
