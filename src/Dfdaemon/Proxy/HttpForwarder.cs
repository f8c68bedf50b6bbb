using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Dragonfly.Dfdaemon.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>How a forward ended (YARP's ForwarderError idea: outcomes as values).</summary>
public enum ForwardOutcome
{
    Success,

    /// <summary>The upstream could not be reached; 502 was sent.</summary>
    UpstreamUnreachable,

    /// <summary>The client went away.</summary>
    ClientAborted,

    /// <summary>The upstream body broke after the response started; the client connection was aborted.</summary>
    ResponseBodyFailed,

    /// <summary>The upstream's head cannot be passed on (Content-Length values that disagree or do not parse); 502 was sent.</summary>
    InvalidResponse,
}

/// <summary>
/// Forwards one request to an absolute upstream URL over the shared <see cref="UpstreamInvoker"/> (YARP-style):
/// request/response headers copied minus hop-by-hop ones (repeated headers such as <c>Accept</c> keep every value, in order),
/// bodies streamed both ways, no redirects followed, no decompression, status and headers (e.g. 401 + WWW-Authenticate) passed unchanged.
/// A response header Kestrel cannot send (control or non-ASCII characters) is dropped with a warning; a response whose
/// Content-Length values disagree (or do not parse) has no trustworthy framing and becomes 502.
/// </summary>
public sealed partial class HttpForwarder
{
    private const int BufferSize = 81920;

    private readonly UpstreamInvoker _invoker;
    private readonly DfdaemonMetrics _metrics;
    private readonly ILogger<HttpForwarder> _logger;

    public HttpForwarder(UpstreamInvoker invoker, DfdaemonMetrics metrics, ILogger<HttpForwarder> logger)
    {
        _invoker = invoker ?? throw new ArgumentNullException(nameof(invoker));
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>Sends <paramref name="context"/>'s request to <paramref name="destination"/> and writes the upstream's answer back.</summary>
    public async Task<ForwardOutcome> ForwardAsync(HttpContext context, Uri destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(destination);
        using var request = BuildRequest(context.Request, destination);
        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ForwardOutcome.ClientAborted;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            _metrics.UpstreamError();
            Log.UpstreamUnreachable(_logger, destination.GetLeftPart(UriPartial.Path), e.Message);
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync($"dfdaemon: upstream {destination.Authority} unreachable: {e.Message}\n", cancellationToken).ConfigureAwait(false);
            }

            return ForwardOutcome.UpstreamUnreachable;
        }

        using (response)
        {
            _metrics.RequestForwarded();
            Log.Forwarded(_logger, context.Request.Method, destination.GetLeftPart(UriPartial.Path), (int)response.StatusCode);
            if (!TryCopyResponseHead(response, context.Response, destination))
            {
                _metrics.UpstreamError();
                Log.InvalidContentLength(_logger, destination.GetLeftPart(UriPartial.Path));
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync($"dfdaemon: upstream {destination.Authority} sent conflicting Content-Length values\n", cancellationToken).ConfigureAwait(false);
                return ForwardOutcome.InvalidResponse;
            }

            if (HttpMethods.IsHead(context.Request.Method) || response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotModified)
            {
                await context.Response.CompleteAsync().ConfigureAwait(false);
                return ForwardOutcome.Success;
            }

            return await CopyBodyAsync(response, context, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The upstream request for <paramref name="incoming"/>: its method and body, and its headers minus hop-by-hop ones.
    /// With <paramref name="method"/> given, that method instead and no body (so no content headers either).
    /// </summary>
    internal static HttpRequestMessage BuildRequest(HttpRequest incoming, Uri destination, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? new HttpMethod(incoming.Method), destination)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };

        var hasBody = incoming.ContentLength > 0
            || incoming.Headers.TransferEncoding.Count > 0
            || (incoming.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? false);
        if (method is null && hasBody && !HttpMethods.IsGet(incoming.Method) && !HttpMethods.IsHead(incoming.Method))
        {
            request.Content = new StreamContent(incoming.Body, BufferSize);
        }

        foreach (var header in HeaderFilter.ForUpstream(incoming.Headers))
        {
            var values = header.Value.ToArray();
            if (!request.Headers.TryAddWithoutValidation(header.Key, values))
            {
                request.Content?.Headers.TryAddWithoutValidation(header.Key, values);
            }
        }

        return request;
    }

    /// <summary>
    /// Sets the upstream's status and headers on <paramref name="to"/>, minus hop-by-hop fields and values Kestrel cannot send.
    /// False, with nothing set, when the Content-Length values disagree or do not parse: the body's length is then unknown.
    /// </summary>
    private bool TryCopyResponseHead(HttpResponseMessage from, HttpResponse to, Uri destination)
    {
        long? contentLength = null;
        if (from.Content.Headers.NonValidated.TryGetValues("Content-Length", out var lengths))
        {
            var distinct = lengths.Distinct(StringComparer.Ordinal).ToList();
            if (distinct.Count != 1 || !long.TryParse(distinct[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length))
            {
                return false;
            }

            contentLength = length;
        }

        var connection = from.Headers.Connection.Count > 0 ? new Microsoft.Extensions.Primitives.StringValues(from.Headers.Connection.ToArray()) : default;
        var copied = new List<KeyValuePair<string, string[]>>();
        Collect(from.Headers.NonValidated);
        Collect(from.Content.Headers.NonValidated);

        to.StatusCode = (int)from.StatusCode;
        foreach (var (name, values) in copied)
        {
            to.Headers[name] = values;
        }

        if (contentLength is not null)
        {
            to.Headers.ContentLength = contentLength;
        }

        return true;

        void Collect(HttpHeadersNonValidated headers)
        {
            foreach (var (name, values) in headers)
            {
                if (HeaderFilter.IsHopByHop(name, connection) || string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var sendable = values.Where(v => HeaderFilter.IsSendable(name, v)).ToArray();
                if (sendable.Length < values.Count)
                {
                    Log.HeaderDropped(_logger, name, destination.GetLeftPart(UriPartial.Path));
                }

                if (sendable.Length > 0)
                {
                    copied.Add(new(name, sendable));
                }
            }
        }
    }

    private async Task<ForwardOutcome> CopyBodyAsync(HttpResponseMessage response, HttpContext context, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            Stream body;
            try
            {
                body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                context.Abort();
                return ForwardOutcome.ResponseBodyFailed;
            }

            await using (body.ConfigureAwait(false))
            {
                while (true)
                {
                    int read;
                    try
                    {
                        read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        return ForwardOutcome.ClientAborted;
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
                    {
                        Log.BodyFailed(_logger, e.Message);
                        context.Abort();
                        return ForwardOutcome.ResponseBodyFailed;
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    try
                    {
                        await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
                    {
                        return ForwardOutcome.ClientAborted;
                    }
                    catch (InvalidOperationException e)
                    {
                        // Kestrel refused the write: the upstream sent more than its Content-Length. Never complete the response.
                        Log.BodyFailed(_logger, e.Message);
                        context.Abort();
                        return ForwardOutcome.ResponseBodyFailed;
                    }

                    _metrics.AddDirectBytes(read);
                }
            }

            return ForwardOutcome.Success;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 10, Level = LogLevel.Debug, Message = "{Method} {Url} forwarded: {Status}")]
        public static partial void Forwarded(ILogger logger, string method, string url, int status);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 11, Level = LogLevel.Warning, Message = "Upstream {Url} unreachable: {Error}")]
        public static partial void UpstreamUnreachable(ILogger logger, string url, string error);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 12, Level = LogLevel.Warning, Message = "Upstream body failed mid-response: {Error}")]
        public static partial void BodyFailed(ILogger logger, string error);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 13, Level = LogLevel.Warning, Message = "Dropped response header {Header} from {Url}: a value Kestrel cannot send (control or non-ASCII characters)")]
        public static partial void HeaderDropped(ILogger logger, string header, string url);

        [LoggerMessage(EventId = Common.Logging.EventIds.Dfdaemon + 14, Level = LogLevel.Warning, Message = "Upstream {Url} sent conflicting or invalid Content-Length values; answered 502")]
        public static partial void InvalidContentLength(ILogger logger, string url);
    }
}
