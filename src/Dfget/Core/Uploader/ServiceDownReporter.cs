using System.Globalization;
using Dragonfly.Common.Http;
using Dragonfly.Common.Nodes;

namespace Dragonfly.Dfget.Uploader;

/// <summary>Tells a supernode that this peer no longer serves a task (<c>GET /peer/service/down?taskId=&amp;cid=</c>).</summary>
public interface IServiceDownReporter
{
    /// <summary>Returns true when the supernode acknowledged the report with a 2xx status.</summary>
    Task<bool> ReportAsync(string superNode, string taskId, string cid, CancellationToken cancellationToken);
}

/// <summary>The HTTP implementation over one long-lived handler (5 s per call, like the original's supernode client).</summary>
public sealed class HttpServiceDownReporter : IServiceDownReporter, IDisposable
{
    private readonly HttpClient _client;

    public HttpServiceDownReporter()
    {
        _client = new HttpClient(new SocketErrorHandler(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        }))
        {
            Timeout = TimeSpan.FromSeconds(5),
        };
    }

    public async Task<bool> ReportAsync(string superNode, string taskId, string cid, CancellationToken cancellationToken)
    {
        if (!SupernodeAddress.TryParse(superNode, out var node, out _))
        {
            return false;
        }

        var uri = new Uri(node.BaseUri, string.Create(
            CultureInfo.InvariantCulture,
            $"peer/service/down?taskId={Uri.EscapeDataString(taskId)}&cid={Uri.EscapeDataString(cid)}"));
        try
        {
            using var response = await _client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public void Dispose() => _client.Dispose();
}
