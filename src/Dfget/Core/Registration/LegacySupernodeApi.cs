using System.Globalization;
using System.Net.Http.Json;
using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Nodes;
using Dragonfly.Common.Pieces;

namespace Dragonfly.Dfget.Registration;

/// <summary>
/// The legacy dfget protocol (<c>/peer/registry</c>, <c>/peer/task</c>, <c>/peer/piece/suc</c>, <c>/peer/piece/error</c>,
/// <c>/peer/service/down</c>, <c>/task/metrics</c>), spoken by the original supernode and ours. Query values are not escaped.
/// </summary>
internal sealed class LegacySupernodeApi(HttpClient client)
{
    public async Task<RegisterOutcome> RegisterAsync(SupernodeAddress node, RegistrationInfo info, CancellationToken cancellationToken)
    {
        var body = new TaskRegisterRequest
        {
            SuperNodeIp = node.Host,
            RawUrl = info.RawUrl,
            TaskUrl = info.TaskUrl,
            Cid = info.Cid,
            Ip = info.Ip,
            HostName = info.HostName,
            Port = info.Port,
            Path = info.Path,
            Version = info.Version,
            Md5 = string.IsNullOrEmpty(info.Md5) ? null : info.Md5,
            Identifier = string.IsNullOrEmpty(info.Md5) ? info.Identifier : null,
            CallSystem = string.IsNullOrEmpty(info.CallSystem) ? null : info.CallSystem,
            Headers = info.Headers.Count == 0 ? null : info.Headers,
            Dfdaemon = info.Dfdaemon,
            Insecure = info.Insecure,
            RootCAs = info.RootCAs.Count == 0 ? null : info.RootCAs,
            Pattern = info.Pattern,
        };
        using var request = SupernodeHttp.Json(HttpMethod.Post, new Uri(node.BaseUri, "peer/registry"), body, DragonflyJsonContext.Default.TaskRegisterRequest);
        var (status, result, text) = await SupernodeHttp.SendAsync(client, request, DragonflyJsonContext.Default.ResultInfo, cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return new RegisterOutcome.Failed((int)status, $"register to {node}: HTTP {(int)status} {Trim(text)}");
        }

        if (result.Code != (int)LegacyCode.Success)
        {
            return new RegisterOutcome.Failed(result.Code, $"register to {node}: code {result.Code} {result.Msg}");
        }

        var data = result.GetData(DragonflyJsonContext.Default.RegisterResult);
        if (data is null || string.IsNullOrEmpty(data.TaskId) || data.PieceSize <= 0)
        {
            return new RegisterOutcome.Failed((int)LegacyCode.SystemError, $"register to {node}: malformed reply");
        }

        return new RegisterOutcome.Registered(new SupernodeRegistration(
            node, SupernodeApiKind.Legacy, data.TaskId, data.FileLength, data.PieceSize, data.CdnSource == CdnSource.Source, null));
    }

    public async Task<PullOutcome> PullAsync(SupernodeRegistration registration, string cid, PullReport report, CancellationToken cancellationToken)
    {
        var query = SupernodeHttp.RawQuery(
            ("srcCid", cid),
            ("dstCid", report.DstId),
            ("range", report.Range?.ToString()),
            ("result", ((int)report.Result).ToString(CultureInfo.InvariantCulture)),
            ("status", ((int)report.Status).ToString(CultureInfo.InvariantCulture)),
            ("taskId", registration.TaskId));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(registration.Node.BaseUri, "peer/task?" + query));
        var (status, result, text) = await SupernodeHttp.SendAsync(client, request, DragonflyJsonContext.Default.ResultInfo, cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return new PullOutcome.Failed((int)status, $"pull from {registration.Node}: HTTP {(int)status} {Trim(text)}", FromHttpStatus: true);
        }

        switch ((LegacyCode)result.Code)
        {
            case LegacyCode.PeerContinue:
                var items = result.GetData(DragonflyJsonContext.Default.IReadOnlyListPullPieceTaskItem) ?? [];
                var pieces = new List<PieceTask>(items.Count);
                foreach (var item in items)
                {
                    if (PieceRange.TryParse(item.Range, out var range) && item.PieceSize > 0 && item.PeerIp is not null && item.Path is not null)
                    {
                        pieces.Add(new PieceTask(
                            range, item.PieceNum, item.PieceSize, PieceMd5.TryParse(item.PieceMd5, out var md5) ? md5 : null,
                            item.Cid ?? string.Empty, item.PeerIp, item.PeerPort, item.Path));
                    }
                }

                return new PullOutcome.Continue(pieces);
            case LegacyCode.PeerWait:
                return new PullOutcome.Wait(result.Msg);
            case LegacyCode.PeerFinish:
                var finish = result.GetData(DragonflyJsonContext.Default.PeerFinishData);
                return new PullOutcome.Finished(finish?.Md5, finish?.FileLength ?? -1);
            default:
                return new PullOutcome.Failed(result.Code, $"pull from {registration.Node}: code {result.Code} {result.Msg}");
        }
    }

    public async Task ReportPieceSuccessAsync(SupernodeRegistration registration, string cid, PieceTask piece, CancellationToken cancellationToken)
    {
        var query = SupernodeHttp.RawQuery(("taskId", registration.TaskId), ("cid", cid), ("dstCid", piece.OwnerId), ("pieceRange", piece.Range.ToString()));
        using var response = await client.GetAsync(new Uri(registration.Node.BaseUri, "peer/piece/suc?" + query), cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    public async Task ReportPieceErrorAsync(
        SupernodeRegistration registration, string cid, PieceTask piece, PieceErrorKind kind, string? realMd5, CancellationToken cancellationToken)
    {
        var query = SupernodeHttp.RawQuery(
            ("taskId", registration.TaskId),
            ("range", piece.Range.ToString()),
            ("srcCid", cid),
            ("dstCid", piece.OwnerId),
            ("dstIp", piece.PeerIp),
            ("realMd5", realMd5),
            ("expectedMd5", piece.Md5?.Md5),
            ("errorType", kind == PieceErrorKind.FileNotExist ? "FILE_NOT_EXIST" : "FILE_MD5_NOT_MATCH"));
        using var response = await client.GetAsync(new Uri(registration.Node.BaseUri, "peer/piece/error?" + query), cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    public async Task ServiceDownAsync(SupernodeRegistration registration, string cid, CancellationToken cancellationToken)
    {
        var query = SupernodeHttp.RawQuery(("taskId", registration.TaskId), ("cid", cid));
        using var response = await client.GetAsync(new Uri(registration.Node.BaseUri, "peer/service/down?" + query), cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    public async Task ReportMetricsAsync(SupernodeRegistration registration, RegistrationInfo info, DownloadMetricsReport report, CancellationToken cancellationToken)
    {
        var body = new TaskMetricsRequest
        {
            Ip = info.Ip,
            Port = info.Port,
            TaskId = registration.TaskId,
            Cid = info.Cid,
            CallSystem = report.CallSystem,
            Duration = report.Duration.TotalSeconds,
            Success = report.Success,
            BacksourceReason = report.BackSourceReason.ToString(CultureInfo.InvariantCulture),
            FileLength = report.FileLength,
        };
        using var response = await client.PostAsJsonAsync(
            new Uri(registration.Node.BaseUri, "task/metrics"), body, DragonflyJsonContext.Default.TaskMetricsRequest, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    private static string Trim(string? text) => text is null ? string.Empty : text.Length > 200 ? text[..200] : text.Trim();
}
