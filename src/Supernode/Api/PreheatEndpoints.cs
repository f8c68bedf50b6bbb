using Dragonfly.Common.Api;
using Dragonfly.Supernode.Preheat;

namespace Dragonfly.Supernode.Api;

/// <summary>v1 <c>/preheats</c> (§1.7): 201 on create, 208 for a finished duplicate, 400 bad input, 404 unknown, 204 on delete.</summary>
internal static class PreheatEndpoints
{
    public static async Task<IResult> CreateAsync(HttpContext context)
    {
        var body = await RequestBodies.ReadJsonAsync(context.Request, DragonflyJsonContext.Default.PreheatCreateRequest, context.RequestAborted).ConfigureAwait(false)
                   ?? throw ApiException.BadRequest("request body is required");
        var id = context.RequestServices.GetRequiredService<PreheatService>().Create(body);
        return ApiJson.Json(new Common.Api.Models.PreheatCreateResponse { Id = id }, StatusCodes.Status201Created);
    }

    public static Task<IResult> ListAsync(HttpContext context) =>
        Task.FromResult<IResult>(ApiJson.Json(context.RequestServices.GetRequiredService<PreheatService>().List()));

    public static Task<IResult> GetAsync(HttpContext context)
    {
        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        var info = context.RequestServices.GetRequiredService<PreheatService>().Get(id) ?? throw ApiException.NotFound($"preheat task {id} not found");
        return Task.FromResult<IResult>(ApiJson.Json(info));
    }

    public static Task<IResult> DeleteAsync(HttpContext context)
    {
        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        return context.RequestServices.GetRequiredService<PreheatService>().Delete(id)
            ? Task.FromResult<IResult>(TypedResults.NoContent())
            : throw ApiException.NotFound($"preheat task {id} not found");
    }
}
