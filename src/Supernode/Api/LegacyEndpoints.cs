using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Errors;
using Dragonfly.Supernode.Managers.PieceErrors;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Metrics;

namespace Dragonfly.Supernode.Api;

/// <summary>
/// The original dfget's protocol (§1.4): HTTP 200 with a <c>{code,msg,data}</c> envelope for business outcomes; failures
/// are thrown and turned into HTTP 500 by <see cref="LegacyErrorFilter"/>. Query values may arrive unescaped.
/// </summary>
internal static class LegacyEndpoints
{
    public static async Task<IResult> RegisterAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var body = await RequestBodies.ReadRegisterAsync(context.Request, ct).ConfigureAwait(false)
                   ?? throw new DragonflyException(ErrorCode.EmptyValue, "request body");
        var registration = context.RequestServices.GetRequiredService<IRegistrationService>();
        var result = await registration.RegisterAsync(
            new RegistrationRequest
            {
                RawUrl = body.RawUrl ?? string.Empty,
                TaskUrl = body.TaskUrl,
                Cid = body.Cid ?? string.Empty,
                Ip = body.Ip,
                HostName = body.HostName,
                Port = body.Port ?? 0,
                Path = body.Path ?? string.Empty,
                Version = body.Version,
                Md5 = body.Md5,
                Identifier = body.Identifier,
                CallSystem = body.CallSystem,
                Headers = body.Headers,
                Dfdaemon = body.Dfdaemon ?? false,
                Insecure = body.Insecure ?? false,
                RootCAs = body.RootCAs,
                SupernodeIp = body.SuperNodeIp,
                Pattern = body.Pattern,
            },
            ct).ConfigureAwait(false);

        return Envelope(LegacyResults.Registered(new RegisterResult
        {
            TaskId = result.TaskId.Value,
            FileLength = result.FileLength,
            PieceSize = result.PieceSize,
            CdnSource = WireMapping.ToCdnSource(result.CdnSource),
            AsSeed = false,
            SeedTaskId = string.Empty,
        }));
    }

    public static async Task<IResult> PullAsync(HttpContext context)
    {
        var q = context.Request.Query;
        var pull = context.RequestServices.GetRequiredService<IPiecePullService>();
        var outcome = await pull.PullAsync(
            new PullRequest((string?)q["taskId"], (string?)q["srcCid"], (string?)q["status"], (string?)q["result"], (string?)q["range"], (string?)q["dstCid"]),
            context.RequestAborted).ConfigureAwait(false);

        return Envelope(outcome switch
        {
            PullOutcome.Continue c => LegacyResults.Continue(c.Pieces.Select(p => p.ToLegacyItem()).ToList()),
            PullOutcome.Wait w => LegacyResults.Wait(string.IsNullOrEmpty(w.Message) ? null : w.Message),
            PullOutcome.Finished f => LegacyResults.Finished(f.Md5, f.FileLength),
            PullOutcome.Failed failed => LegacyResults.Of((LegacyCode)failed.LegacyCode, failed.Message),
            _ => LegacyResults.Of(LegacyCode.SystemError),
        });
    }

    public static Task<IResult> PieceSuccessAsync(HttpContext context)
    {
        var q = context.Request.Query;
        var pull = context.RequestServices.GetRequiredService<IPiecePullService>();
        var (taskId, cid, dstCid, range) = ((string?)q["taskId"], (string?)q["cid"], (string?)q["dstCid"], (string?)q["pieceRange"]);
        return pull.ReportPieceSuccess(taskId, cid, dstCid, range) switch
        {
            PieceReportOutcome.Recorded => Task.FromResult(Envelope(LegacyResults.CodeOnly(LegacyCode.GetPieceReport))),
            PieceReportOutcome.InvalidInput => throw new DragonflyException(ErrorCode.InvalidValue, $"piece report taskId={taskId} cid={cid} dstCid={dstCid} pieceRange={range}"),
            _ => throw new DragonflyException(ErrorCode.DataNotFound, $"failed to get dfget task {cid}@{taskId} or peer {dstCid}"),
        };
    }

    public static Task<IResult> ServiceDownAsync(HttpContext context)
    {
        var q = context.Request.Query;
        var pull = context.RequestServices.GetRequiredService<IPiecePullService>();
        var (taskId, cid) = ((string?)q["taskId"], (string?)q["cid"]);
        return pull.ServiceDown(taskId, cid) switch
        {
            ServiceDownOutcome.AlreadyOffline => throw new DragonflyException(ErrorCode.InvalidValue, $"peer of {cid}@{taskId} has been offline"),
            _ => Task.FromResult(Envelope(LegacyResults.CodeOnly(LegacyCode.GetPeerDown))),
        };
    }

    public static Task<IResult> PieceErrorAsync(HttpContext context)
    {
        var q = context.Request.Query;
        context.RequestServices.GetRequiredService<IPieceErrorQueue>().TryEnqueue(new PieceErrorReport(
            (string?)q["taskId"], (string?)q["range"], (string?)q["srcCid"], (string?)q["dstCid"], (string?)q["dstIp"],
            (string?)q["realMd5"], (string?)q["expectedMd5"], (string?)q["errorType"]));
        return Task.FromResult<IResult>(TypedResults.Ok());
    }

    public static async Task<IResult> TaskMetricsAsync(HttpContext context)
    {
        var report = await RequestBodies.ReadJsonAsync(context.Request, DragonflyJsonContext.Default.TaskMetricsRequest, context.RequestAborted).ConfigureAwait(false);
        if (report is not null && SupernodeApiMetrics.DfgetReportProblem(report.Duration, report.FileLength) is { } problem)
        {
            // Refused before the ledger, so a corrected report of the same download still counts.
            throw DragonflyException.Invalid(problem);
        }

        if (report is not null && context.RequestServices.GetRequiredService<DfgetReportLedger>().TryRecordFirst(report.TaskId, report.Cid))
        {
            context.RequestServices.GetRequiredService<SupernodeApiMetrics>().RecordDfgetReport(
                report.CallSystem, report.Ip, report.Duration, report.Success ?? false, report.BacksourceReason, report.FileLength);
            ApiLog.DfgetReport(
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Dragonfly.Supernode.Api.DfgetReports"),
                report.TaskId, report.Cid, report.Success ?? false, report.Duration ?? 0, report.BacksourceReason);
        }

        return Results.Text("null", "application/json");
    }

    /// <summary>Stub routes (<c>/peer/heartbeat</c>, <c>/peer/network</c>): drain a bounded body, answer <c>{}</c>.</summary>
    public static async Task<IResult> EmptyObjectAsync(HttpContext context)
    {
        await RequestBodies.ReadAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        return Results.Text("{}", "application/json");
    }

    private static IResult Envelope(ResultInfo result) => ApiJson.Json(result);
}
