using System.Net;
using System.Net.Sockets;
using Dragonfly.Common.Logging;
using Microsoft.Extensions.Logging;

namespace Dragonfly.Supernode.Origin;

/// <summary>
/// Opens the supernode's connections to sources under the <see cref="SourceAddressPolicy"/>. It is the
/// <see cref="SocketsHttpHandler.ConnectCallback"/> of every handler that fetches a source, so the policy is applied after
/// DNS resolution, to the address actually connected, for each new connection: a redirect to another host and a name
/// that resolves differently the next time (DNS rebinding) are judged like the first request. The host's addresses are
/// tried in the resolver's order, skipping those the policy refuses; when it refuses all of them the connection fails
/// with <see cref="SourceAddressNotAllowedException"/> (which the handler wraps in an <see cref="HttpRequestException"/>)
/// before any byte is sent.
/// </summary>
public sealed partial class SourceConnector
{
    private readonly SourceAddressPolicy _policy;
    private readonly ILogger<SourceConnector> _logger;

    public SourceConnector(SourceAddressPolicy policy, ILogger<SourceConnector> logger)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(logger);
        _policy = policy;
        _logger = logger;
    }

    public SourceAddressPolicy Policy => _policy;

    /// <summary>
    /// Puts this connector on <paramref name="handler"/> when the policy restricts anything, and turns the handler's
    /// proxy off then (through a proxy the policy would judge the proxy's address, not the source's). An unrestricted
    /// policy leaves the handler as it was.
    /// </summary>
    public void Apply(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (_policy.IsUnrestricted)
        {
            return;
        }

        handler.UseProxy = false;
        handler.ConnectCallback = ConnectAsync;
    }

    /// <summary>The connect callback: resolve, keep the permitted addresses, connect to the first that answers.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var port = context.DnsEndPoint.Port;
        var literal = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        var addresses = IPAddress.TryParse(literal, out var parsed)
            ? [parsed]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);

        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        var permitted = addresses.Where(_policy.Permits).ToList();
        if (permitted.Count == 0)
        {
            var refused = string.Join(", ", addresses.Select(SourceAddressPolicy.Normalize));
            Log.Refused(_logger, host, port, refused);
            throw new SourceAddressNotAllowedException(host, refused);
        }

        Exception? last = null;
        foreach (var address in permitted)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.SupernodeCdn + 95, Level = LogLevel.Warning,
            Message = "Refused to connect to source {Host}:{Port}: its addresses {Addresses} are not allowed by the source address policy (sourceAllow/sourceDeny)")]
        public static partial void Refused(ILogger logger, string host, int port, string addresses);
    }
}

/// <summary>The source address policy refused every address of a source host; no connection was made.</summary>
public sealed class SourceAddressNotAllowedException : IOException
{
    public SourceAddressNotAllowedException(string host, string addresses)
        : base($"{Describe(host, addresses)} is not allowed by the supernode's source address policy (sourceAllow/sourceDeny)")
    {
        Host = host;
        Addresses = addresses;
    }

    public string Host { get; }

    public string Addresses { get; }

    private static string Describe(string host, string addresses) =>
        string.Equals(host.Trim('[', ']'), addresses, StringComparison.OrdinalIgnoreCase)
            ? $"source address {addresses}"
            : $"source address {addresses} of {host}";

    /// <summary>The refusal behind <paramref name="exception"/> (the handler wraps it, maybe twice), or null.</summary>
    public static SourceAddressNotAllowedException? Find(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SourceAddressNotAllowedException refused)
            {
                return refused;
            }
        }

        return null;
    }
}
