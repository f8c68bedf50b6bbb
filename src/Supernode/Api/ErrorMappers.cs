using System.Text.Json;
using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Errors;

namespace Dragonfly.Supernode.Api;

/// <summary>
/// Catches what an endpoint of one API surface throws and answers with that surface's error body; the mapping itself is
/// the surface's (<see cref="LegacyErrorFilter"/>, <see cref="V1ErrorFilter"/>). A request the client abandoned is not
/// answered.
/// </summary>
internal abstract class SurfaceErrorFilter(ILogger logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            var (status, body) = MapException(e);
            if (e is ApiException or BadHttpRequestException or DragonflyException or JsonException)
            {
                ApiLog.RequestFailed(logger, context.HttpContext.Request.Path, status, body.Message ?? string.Empty);
            }
            else
            {
                // Not an outcome any handler means to produce: a bug, logged with its stack for whoever runs the supernode.
                ApiLog.RequestCrashed(logger, context.HttpContext.Request.Method, context.HttpContext.Request.Path, status, e);
            }

            return ApiJson.Json(body, status);
        }
    }

    protected abstract (int Status, ErrorResponse Body) MapException(Exception e);
}

/// <summary>
/// The legacy surface's single exception→response mapper (§1.3): an <see cref="ApiException"/> keeps its status; every
/// other failure, including <see cref="DragonflyException"/>s, is HTTP 500 <c>{"code":500,"message":"..."}</c> with the
/// original's message shape (<c>raw url: notaurl: {"Code":2,"Msg":"invalid value"}</c>).
/// </summary>
internal sealed class LegacyErrorFilter(ILogger<LegacyErrorFilter> logger) : SurfaceErrorFilter(logger)
{
    protected override (int Status, ErrorResponse Body) MapException(Exception e) => Map(e);

    internal static (int Status, ErrorResponse Body) Map(Exception e) => e switch
    {
        ApiException api => (api.StatusCode, new ErrorResponse { Code = api.Code, Message = api.Message }),
        BadHttpRequestException bad => (bad.StatusCode, new ErrorResponse { Code = bad.StatusCode, Message = bad.Message }),
        DragonflyException d => (StatusCodes.Status500InternalServerError, LegacyResults.Failure(d.WireMessage)),
        JsonException j => (StatusCodes.Status500InternalServerError, LegacyResults.Failure($"invalid request body: {j.Message}")),
        _ => (StatusCodes.Status500InternalServerError, LegacyResults.Failure(e.Message)),
    };

}

/// <summary>
/// The v1 surface's single exception→response mapper: swagger <c>ErrorResponse</c> bodies with REST statuses (§0):
/// invalid input 400, unknown id 404, task id conflict 409 (code 606), url not reachable 404 (code 607), authentication
/// required 500 (code 608), oversize body 413, anything else 500.
/// </summary>
internal sealed class V1ErrorFilter(ILogger<V1ErrorFilter> logger) : SurfaceErrorFilter(logger)
{
    protected override (int Status, ErrorResponse Body) MapException(Exception e) => Map(e);

    internal static (int Status, ErrorResponse Body) Map(Exception e)
    {
        switch (e)
        {
            case ApiException api:
                return (api.StatusCode, new ErrorResponse { Code = api.Code, Message = api.Message });
            case BadHttpRequestException bad:
                return (bad.StatusCode, new ErrorResponse { Code = bad.StatusCode, Message = bad.Message });
            case JsonException j:
                return (400, new ErrorResponse { Code = 400, Message = $"invalid request body: {j.Message}" });
            case DragonflyException d:
                var (status, code) = d.Code switch
                {
                    ErrorCode.DataNotFound => (404, 404),
                    ErrorCode.EmptyValue or ErrorCode.InvalidValue or ErrorCode.ConvertFailed or ErrorCode.RangeNotSatisfiable => (400, 400),
                    ErrorCode.TaskIdConflict => (409, (int)LegacyCode.TaskConflict),
                    ErrorCode.UrlNotReachable => (404, (int)LegacyCode.UrlNotReachable),
                    ErrorCode.AuthenticationRequired => (500, (int)LegacyCode.NeedAuth),
                    _ => (500, 500),
                };
                return (status, new ErrorResponse { Code = code, Message = d.WireMessage });
            default:
                return (500, new ErrorResponse { Code = 500, Message = e.Message });
        }
    }

}
