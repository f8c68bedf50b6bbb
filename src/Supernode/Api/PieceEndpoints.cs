using System.Globalization;
using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers.PieceErrors;
using Dragonfly.Supernode.Managers.Registration;
using ProgressPieceResult = Dragonfly.Supernode.Managers.Progress.PieceResult;
using WirePieceResult = Dragonfly.Common.Api.Models.PieceResult;

namespace Dragonfly.Supernode.Api;

/// <summary>
/// v1 piece routes. The pull carries the legacy 601/602/600 outcomes as <c>state</c> continue/wait/finished (HTTP 200);
/// faults are 400 (legacy 501), 404 (502), 500 (CDN failed, 607) with an ErrorResponse whose code is the legacy code.
/// </summary>
internal static class PieceEndpoints
{
    /// <summary>The longest a v1 pull's "wait" is held for the swarm to change (<c>waitMs</c>).</summary>
    internal const int MaxPullWaitMs = 10_000;

    public static async Task<IResult> PullAsync(HttpContext context)
    {
        var task = TaskEndpoints.Find(context, (int)LegacyCode.TargetNotFound);
        var q = context.Request.Query;
        var clientId = (string?)q["clientID"];
        if (string.IsNullOrEmpty(clientId))
        {
            throw new ApiException(StatusCodes.Status400BadRequest, "clientID is required", (int)LegacyCode.ParamError);
        }

        var status = (string?)q["dfgetTaskStatus"];
        if (!DragonflyJson.TryParseWire<PiecePullStatus>(status, out _))
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"dfgetTaskStatus '{status}' must be STARTED, RUNNING or FINISHED", (int)LegacyCode.ParamError);
        }

        var result = (string?)q["pieceResult"];
        if (!string.IsNullOrEmpty(result) && !DragonflyJson.TryParseWire<WirePieceResult>(result, out _))
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"pieceResult '{result}' must be FAILED, SUCCESS, INVALID or SEMISUC", (int)LegacyCode.ParamError);
        }

        var waitText = (string?)q["waitMs"];
        var waitMs = 0;
        if (!string.IsNullOrEmpty(waitText)
            && (!int.TryParse(waitText, NumberStyles.None, CultureInfo.InvariantCulture, out waitMs) || waitMs > MaxPullWaitMs))
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"waitMs '{waitText}' must be 0-{MaxPullWaitMs}", (int)LegacyCode.ParamError);
        }

        var outcome = await context.RequestServices.GetRequiredService<IPiecePullService>().PullAsync(
            new PullRequest(task.Id.Value, clientId, status, result, (string?)q["pieceRange"], (string?)q["dstPID"], TimeSpan.FromMilliseconds(waitMs)),
            context.RequestAborted).ConfigureAwait(false);

        var response = outcome switch
        {
            PullOutcome.Continue c => PiecePullResponse.Continue(c.Pieces.Select(p => p.ToPieceInfo()).ToList()),
            PullOutcome.Wait w => PiecePullResponse.Wait(string.IsNullOrEmpty(w.Message) ? null : w.Message, w.Held is { } held ? (long)held.TotalMilliseconds : null),
            PullOutcome.Finished f => PiecePullResponse.Finished(f.Md5, f.FileLength),
            PullOutcome.Failed failed => throw new ApiException(
                failed.Reason switch
                {
                    PullFailure.ParamError => StatusCodes.Status400BadRequest,
                    PullFailure.TargetNotFound => StatusCodes.Status404NotFound,
                    _ => StatusCodes.Status500InternalServerError,
                },
                failed.Message,
                failed.LegacyCode),
            _ => throw new InvalidOperationException("unknown pull outcome"),
        };
        return ApiJson.Json(response);
    }

    public static async Task<IResult> UpdateAsync(HttpContext context)
    {
        var task = TaskEndpoints.Find(context);
        var range = RouteRange(context);
        var body = await RequestBodies.ReadJsonAsync(context.Request, DragonflyJsonContext.Default.PieceUpdateRequest, context.RequestAborted).ConfigureAwait(false)
                   ?? throw ApiException.BadRequest("request body is required");
        if (string.IsNullOrEmpty(body.ClientId) || body.PieceStatus is null)
        {
            throw ApiException.BadRequest("clientID and pieceStatus are required");
        }

        // The enum converter also takes a JSON number, of any value: only the defined results are a report.
        if (!Enum.IsDefined(body.PieceStatus.Value))
        {
            throw ApiException.BadRequest($"pieceStatus {(int)body.PieceStatus.Value} must be FAILED, SUCCESS, INVALID or SEMISUC");
        }

        var result = body.PieceStatus.Value.ToClientPieceResult() switch
        {
            ClientPieceResult.Fail => ProgressPieceResult.Failed,
            ClientPieceResult.Success => ProgressPieceResult.Success,
            ClientPieceResult.SemiSuccess => ProgressPieceResult.SemiSuccess,
            _ => ProgressPieceResult.Invalid,
        };
        return context.RequestServices.GetRequiredService<IPiecePullService>()
                .ReportPiece(task.Id.Value, body.ClientId, body.DstPid, range.ToString(), result) switch
        {
            PieceReportOutcome.Recorded => TypedResults.NoContent(),
            PieceReportOutcome.InvalidInput => throw ApiException.BadRequest($"invalid piece report for {body.ClientId} range {range}"),
            _ => throw ApiException.NotFound($"client {body.ClientId} or uploader {body.DstPid} not found in task {task.Id.Value}"),
        };
    }

    /// <summary>POST (JSON body) or GET (query, or a JSON body that wins, as original clients send it).</summary>
    public static async Task<IResult> ReportErrorAsync(HttpContext context)
    {
        var task = TaskEndpoints.Find(context);
        var range = RouteRange(context);
        var body = await RequestBodies.ReadJsonAsync(context.Request, DragonflyJsonContext.Default.PieceErrorRequest, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            if (HttpMethods.IsPost(context.Request.Method))
            {
                throw ApiException.BadRequest("request body is required");
            }

            var q = context.Request.Query;
            var errorTypeText = (string?)q["errorType"];
            PieceErrorType? errorType = null;
            if (!string.IsNullOrEmpty(errorTypeText))
            {
                errorType = DragonflyJson.TryParseWire<PieceErrorType>(errorTypeText, out var parsed)
                    ? parsed
                    : throw ApiException.BadRequest($"errorType '{errorTypeText}' must be FILE_NOT_EXIST or FILE_MD5_NOT_MATCH");
            }

            body = new PieceErrorRequest
            {
                SrcCid = (string?)q["srcCid"],
                DstPid = (string?)q["dstPid"],
                DstIp = (string?)q["dstIP"],
                RealMd5 = (string?)q["realMd5"],
                ExpectedMd5 = (string?)q["expectedMd5"],
                ErrorType = errorType,
            };
        }

        if (body.ErrorType is not { } errorKind || !Enum.IsDefined(errorKind))
        {
            throw ApiException.BadRequest("errorType is required (FILE_NOT_EXIST or FILE_MD5_NOT_MATCH)");
        }

        context.RequestServices.GetRequiredService<IPieceErrorQueue>().TryEnqueue(new PieceErrorReport(
            task.Id.Value, range.ToString(), body.SrcCid, body.DstPid, body.DstIp, body.RealMd5, body.ExpectedMd5,
            DragonflyJson.ToWire(errorKind)));
        return TypedResults.NoContent();
    }

    private static PieceRange RouteRange(HttpContext context)
    {
        var raw = context.Request.RouteValues["pieceRange"] as string;
        return PieceRange.TryParse(raw, out var range) ? range : throw ApiException.BadRequest($"pieceRange '{raw}' is not a range like 0-4194303");
    }
}
