using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers.Gc;
using Dragonfly.Supernode.Managers.Peers;

namespace Dragonfly.Supernode.Api;

/// <summary>v1 <c>/peers</c>: 201 on create, 204 on delete, 404 for an unknown (or malformed) id, 400 for bad input.</summary>
internal static class PeerEndpoints
{
    public static async Task<IResult> CreateAsync(HttpContext context)
    {
        var body = await RequestBodies.ReadJsonAsync(context.Request, DragonflyJsonContext.Default.PeerCreateRequest, context.RequestAborted).ConfigureAwait(false)
                   ?? throw ApiException.BadRequest("request body is required");
        if (string.IsNullOrEmpty(body.Ip) || !IPAddress.TryParse(body.Ip, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork || body.Ip.Count(c => c == '.') != 3)
        {
            throw ApiException.BadRequest($"IP '{body.Ip}' is not an IPv4 address");
        }

        if (string.IsNullOrWhiteSpace(body.HostName))
        {
            throw ApiException.BadRequest("hostName must not be empty");
        }

        if (body.Port is not (>= 15000 and <= 65000))
        {
            throw ApiException.BadRequest($"port {body.Port?.ToString(CultureInfo.InvariantCulture) ?? "(missing)"} must be between 15000 and 65000");
        }

        var peer = context.RequestServices.GetRequiredService<IPeerMgr>()
            .Register(new PeerRegistration(body.Ip, body.HostName, body.Port.Value, body.Version));
        return ApiJson.Json(new PeerCreateResponse { Id = peer.Id.Value }, StatusCodes.Status201Created);
    }

    public static Task<IResult> ListAsync(HttpContext context)
    {
        var q = context.Request.Query;
        var pageNum = QueryInt(q["pageNum"], "pageNum");
        var pageSize = QueryInt(q["pageSize"], "pageSize");
        var direction = (string?)q["sortDirect"] switch
        {
            null or "" => SortDirection.Ascending,
            var s when s.Equals("ASC", StringComparison.OrdinalIgnoreCase) => SortDirection.Ascending,
            var s when s.Equals("DESC", StringComparison.OrdinalIgnoreCase) => SortDirection.Descending,
            var s => throw ApiException.BadRequest($"sortDirect '{s}' must be ASC or DESC"),
        };

        var peers = context.RequestServices.GetRequiredService<IPeerMgr>().List(new PeerListQuery(pageNum, pageSize, direction));
        IReadOnlyList<PeerInfo> list = peers.Select(p => p.ToPeerInfo()).ToList();
        return Task.FromResult<IResult>(ApiJson.Json(list));
    }

    public static Task<IResult> GetAsync(HttpContext context)
    {
        var id = ParseId(context);
        if (!context.RequestServices.GetRequiredService<IPeerMgr>().TryGet(id, out var peer))
        {
            throw ApiException.NotFound($"peer {id.Value} not found");
        }

        return Task.FromResult<IResult>(ApiJson.Json(peer.ToPeerInfo()));
    }

    public static Task<IResult> DeleteAsync(HttpContext context)
    {
        var id = ParseId(context);
        if (!context.RequestServices.GetRequiredService<IGcMgr>().DeletePeer(id))
        {
            throw ApiException.NotFound($"peer {id.Value} not found");
        }

        return Task.FromResult<IResult>(TypedResults.NoContent());
    }

    private static PeerId ParseId(HttpContext context)
    {
        var raw = context.Request.RouteValues["id"] as string;
        return PeerId.TryParse(raw, out var id) ? id : throw ApiException.NotFound($"peer {raw} not found");
    }

    internal static int QueryInt(string? value, string name) =>
        string.IsNullOrEmpty(value)
            ? 0
            : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0
                ? n
                : throw ApiException.BadRequest($"{name} '{value}' must be a non-negative integer");
}
