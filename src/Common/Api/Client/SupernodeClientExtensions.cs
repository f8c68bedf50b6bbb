using Dragonfly.Common.Api.Models;

namespace Dragonfly.Common.Api.Client;

/// <summary>Typed conveniences over the generated <see cref="ISupernodeClient"/>.</summary>
public static class SupernodeClientExtensions
{
    /// <summary>
    /// The v1 pull with typed parameters: reports the last piece (when <paramref name="request"/> carries one) and
    /// returns the next outcome (continue with pieces, wait, or finished).
    /// </summary>
    public static Task<PiecePullResponse> PullPieceTasksAsync(
        this ISupernodeClient client, string taskId, string clientId, PiecePullRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        return client.PullPieceTasksAsync(
            taskId,
            clientId,
            DragonflyJson.ToWire(request.DfgetTaskStatus ?? PiecePullStatus.Started),
            request.DstPid,
            request.PieceResult is { } result ? DragonflyJson.ToWire(result) : null,
            request.PieceRange,
            request.WaitMs is > 0 ? request.WaitMs : null,
            cancellationToken);
    }

    /// <summary>Reads a text reply (<c>/_ping</c>, <c>/metrics</c>) and disposes it.</summary>
    public static async Task<string> ReadAsStringAsync(this FileResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        using (response)
        {
            using var reader = new StreamReader(response.Stream);
            return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
