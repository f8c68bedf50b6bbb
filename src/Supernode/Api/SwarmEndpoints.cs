using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers.Progress;

namespace Dragonfly.Supernode.Api;

/// <summary>
/// The live swarm view: <c>GET /api/v1/tasks/{id}/swarm</c> (the scheduler's piece bitmap of one task as JSON) and the
/// page at <c>/swarm</c> that draws it.
/// </summary>
internal static class SwarmEndpoints
{
    /// <summary>The page: static HTML with its script inline, so a browser needs nothing but this supernode.</summary>
    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = typeof(SwarmEndpoints).Assembly.GetManifestResourceStream("swarm.html")
                           ?? throw new InvalidOperationException("the swarm page is not embedded in the supernode");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static Task<IResult> GetAsync(HttpContext context)
    {
        var task = TaskEndpoints.Find(context);
        var swarm = context.RequestServices.GetRequiredService<IProgressMgr>().GetSwarm(task.Id);
        return Task.FromResult(ApiJson.Json(ToView(task.Id.Value, WireMapping.ToApiStatus(task.CdnStatus), swarm)));
    }

    public static Task<IResult> PageAsync(HttpContext context)
    {
        // Only its own origin: the page fetches this supernode's API and nothing else, and renders peer data as text.
        context.Response.Headers.ContentSecurityPolicy =
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return Task.FromResult<IResult>(TypedResults.Bytes(Page.Value, "text/html; charset=utf-8"));
    }

    /// <summary>The wire form of a swarm; a task without clients yet (no swarm) is an empty view.</summary>
    internal static SwarmView ToView(string taskId, CdnStatus cdnStatus, SwarmSnapshot? swarm)
    {
        if (swarm is null)
        {
            return new SwarmView { TaskId = taskId, CdnStatus = cdnStatus, PieceTotal = -1, Width = 0, CdnPieces = string.Empty, Holders = [], Peers = [] };
        }

        var width = Width(swarm);
        return new SwarmView
        {
            TaskId = taskId,
            CdnStatus = cdnStatus,
            PieceTotal = swarm.PieceTotal,
            Width = width,
            CdnPieces = PieceBitfield.Encode(swarm.CdnPieces, width),
            Holders = HoldersFor(swarm.Holders, width),
            SupernodeLoad = swarm.SuperLoad,
            PiecesFromSupernode = swarm.Stats.PiecesFromSupernode,
            BytesFromSupernode = swarm.Stats.BytesFromSupernode,
            PiecesFromPeers = swarm.Stats.PiecesFromPeers,
            BytesFromPeers = swarm.Stats.BytesFromPeers,
            PiecesReused = swarm.Stats.PiecesAlreadyHeld,
            Peers = swarm.Clients
                .OrderBy(c => c.Cid.Value, StringComparer.Ordinal)
                .Select(c => new SwarmPeer
                {
                    Cid = c.Cid.Value,
                    PeerId = c.PeerId.Value,
                    Pieces = PieceBitfield.Encode(c.SucceededPieces, width),
                    FailedPieces = PieceBitfield.Encode(c.FailedPieces, width),
                    Running = c.RunningPieces
                        .OrderBy(r => r.Key)
                        .Select(r => new SwarmRunningPiece { PieceNum = r.Key, UploaderCid = r.Value.Value })
                        .ToList(),
                })
                .ToList(),
        };
    }

    /// <summary>
    /// The piece total once known; before that, the highest piece anyone has, holds or is fetching, + 1. At most
    /// <see cref="PieceBitfield.MaxPieces"/> (the tracker accepts no piece beyond it while the total is unknown).
    /// </summary>
    internal static int Width(SwarmSnapshot swarm)
    {
        if (swarm.PieceTotal >= 0)
        {
            return Math.Min(swarm.PieceTotal, PieceBitfield.MaxPieces);
        }

        long highest = Math.Max(swarm.Holders.Count - 1, swarm.CdnPieces.Count == 0 ? -1 : swarm.CdnPieces.Max());
        foreach (var client in swarm.Clients)
        {
            highest = Math.Max(highest, client.SucceededPieces.Count == 0 ? -1 : client.SucceededPieces.Max());
            highest = Math.Max(highest, client.RunningPieces.Count == 0 ? -1 : client.RunningPieces.Keys.Max());
        }

        return (int)Math.Min(highest + 1, PieceBitfield.MaxPieces);
    }

    /// <summary>One holder count per piece of the view: the tracker's list ends at the last held piece.</summary>
    private static int[] HoldersFor(IReadOnlyList<int> holders, int width)
    {
        var counts = new int[width];
        for (var i = 0; i < Math.Min(width, holders.Count); i++)
        {
            counts[i] = holders[i];
        }

        return counts;
    }
}
