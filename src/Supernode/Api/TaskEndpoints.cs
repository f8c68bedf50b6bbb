using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers;
using Dragonfly.Supernode.Managers.Gc;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Managers.Tasks;

namespace Dragonfly.Supernode.Api;

/// <summary>v1 <c>/tasks</c>: the REST face of registration and task GC.</summary>
internal static class TaskEndpoints
{
    public static async Task<IResult> CreateAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var body = await RequestBodies.ReadJsonAsync(context.Request, DragonflyJsonContext.Default.TaskCreateRequest, ct).ConfigureAwait(false)
                   ?? throw ApiException.BadRequest("request body is required");
        if (string.IsNullOrEmpty(body.PeerId))
        {
            throw ApiException.BadRequest("peerID is required (create the peer with POST /api/v1/peers first)");
        }

        if (string.IsNullOrEmpty(body.Cid) || string.IsNullOrEmpty(body.Path))
        {
            throw ApiException.BadRequest("cID and path are required");
        }

        if (!Common.Identity.TaskIdentity.IsHttpUrl(body.RawUrl))
        {
            throw ApiException.BadRequest($"rawURL '{body.RawUrl}' is not an http or https URL");
        }

        var result = await context.RequestServices.GetRequiredService<IRegistrationService>().RegisterAsync(
            new RegistrationRequest
            {
                RawUrl = body.RawUrl!,
                TaskUrl = body.TaskUrl,
                Filter = body.Filter,
                Cid = body.Cid,
                Path = body.Path,
                Md5 = body.Md5,
                Identifier = body.Identifier,
                CallSystem = body.CallSystem,
                HeaderMap = body.Headers,
                Dfdaemon = body.Dfdaemon ?? false,
                SupernodeIp = body.SupernodeIp,
                PeerId = body.PeerId,
                Pattern = body.PeerPattern,
            },
            ct).ConfigureAwait(false);

        return ApiJson.Json(
            new TaskCreateResponse
            {
                Id = result.TaskId.Value,
                FileLength = result.FileLength,
                PieceSize = result.PieceSize,
                CdnSource = WireMapping.ToCdnSource(result.CdnSource),
            }, StatusCodes.Status201Created);
    }

    /// <summary>Every task, most recently used first; <c>pageNum</c>/<c>pageSize</c> as for peers (size 0: all).</summary>
    public static Task<IResult> ListAsync(HttpContext context)
    {
        var q = context.Request.Query;
        var pageNum = PeerEndpoints.QueryInt(q["pageNum"], "pageNum");
        var pageSize = PeerEndpoints.QueryInt(q["pageSize"], "pageSize");
        var tasks = context.RequestServices.GetRequiredService<ITaskMgr>().List()
            .OrderByDescending(t => t.LastAccess)
            .ThenBy(t => t.Id.Value, StringComparer.Ordinal)
            .ToArray();
        IReadOnlyList<TaskInfo> page = Paging.Page(tasks, pageNum, pageSize).Select(t => t.ToTaskInfo()).ToList();
        return Task.FromResult<IResult>(ApiJson.Json(page));
    }

    public static Task<IResult> GetAsync(HttpContext context)
    {
        var task = Find(context);
        return Task.FromResult<IResult>(ApiJson.Json(task.ToTaskInfo()));
    }

    /// <summary>An operator's update: the task must exist, a given peerID must be a known peer; records an access.</summary>
    public static async Task<IResult> UpdateAsync(HttpContext context)
    {
        var task = Find(context);
        var body = await RequestBodies.ReadJsonAsync(context.Request, DragonflyJsonContext.Default.TaskUpdateRequest, context.RequestAborted).ConfigureAwait(false)
                   ?? throw ApiException.BadRequest("request body is required");
        if (!string.IsNullOrEmpty(body.PeerId) &&
            (!PeerId.TryParse(body.PeerId, out var peerId) || !context.RequestServices.GetRequiredService<IPeerMgr>().TryGet(peerId, out _)))
        {
            throw ApiException.NotFound($"peer {body.PeerId} not found");
        }

        context.RequestServices.GetRequiredService<ITaskMgr>().Touch(task.Id);
        return TypedResults.NoContent();
    }

    public static async Task<IResult> DeleteAsync(HttpContext context)
    {
        var task = Find(context);
        var fullText = (string?)context.Request.Query["full"];
        var full = false;
        if (!string.IsNullOrEmpty(fullText) && !bool.TryParse(fullText, out full))
        {
            throw ApiException.BadRequest($"full '{fullText}' must be true or false");
        }

        await context.RequestServices.GetRequiredService<IGcMgr>().DeleteTaskAsync(task.Id, full, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>The task named by the route's <c>id</c>; a malformed id is reported as not found and never reaches storage.</summary>
    /// <param name="notFoundCode">The body's <c>code</c> for an unknown task (the pull uses the legacy 502).</param>
    internal static TaskSnapshot Find(HttpContext context, int notFoundCode = StatusCodes.Status404NotFound)
    {
        var raw = context.Request.RouteValues["id"] as string;
        if (!TaskId.TryParse(raw, out var id) || !context.RequestServices.GetRequiredService<ITaskMgr>().TryGet(id, out var task))
        {
            throw new ApiException(StatusCodes.Status404NotFound, $"task {raw} not found", notFoundCode);
        }

        return task;
    }
}
