using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Client;
using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Nodes;
using Dragonfly.Common.Pieces;

namespace Dragonfly.Dfget.Registration;

/// <summary>
/// The v1 REST API of our supernode: <c>POST /api/v1/peers</c>, <c>POST /api/v1/tasks</c>, <c>GET /api/v1/tasks/{id}/pieces</c>,
/// <c>PUT /api/v1/tasks/{id}/pieces/{range}</c>, <c>POST .../error</c>, through the NSwag-generated
/// <see cref="SupernodeClient"/> (one instance per node over the shared supernode <see cref="HttpClient"/>).
/// </summary>
internal sealed class V1SupernodeApi(HttpClient client)
{
    /// <summary>Result code meaning "this supernode has no v1 task routes" (an original supernode): use the legacy protocol.</summary>
    public const int NotSupported = 404;

    /// <summary>
    /// How long the supernode may hold a "wait" answer for the swarm to change (<c>waitMs</c>): the client then asks again
    /// at once instead of backing off. Well inside <see cref="DfgetHttpClients.SupernodeTimeout"/>.
    /// </summary>
    public static readonly TimeSpan PullHold = TimeSpan.FromSeconds(1);

    public async Task<RegisterOutcome> RegisterAsync(SupernodeAddress node, RegistrationInfo info, CancellationToken cancellationToken)
    {
        var api = For(node);
        var peer = new PeerCreateRequest { Ip = info.Ip, HostName = info.HostName, Port = info.Port == 0 ? null : info.Port, Version = info.Version };
        string peerId;
        try
        {
            var created = await api.CreatePeerAsync(peer, cancellationToken).ConfigureAwait(false);
            if (created?.Id is not { Length: > 0 } id)
            {
                return new RegisterOutcome.Failed((int)LegacyCode.SystemError, $"create peer on {node}: no peer id");
            }

            peerId = id;
        }
        catch (SupernodeApiException e) when (e.StatusCode == NotSupported && !LooksLikeJson(e.Response))
        {
            return new RegisterOutcome.Failed(NotSupported, $"{node} has no v1 api");
        }
        catch (SupernodeApiException e)
        {
            return new RegisterOutcome.Failed(ErrorCode(e), $"create peer on {node}: {Describe(e)}");
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in info.Headers)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var key = header[..colon].Trim();
            var value = header[(colon + 1)..].Trim();
            if (value.Length > 0)
            {
                headers[key] = headers.TryGetValue(key, out var existing) ? existing + "," + value : value;
            }
        }

        var task = new TaskCreateRequest
        {
            Cid = info.Cid,
            RawUrl = info.RawUrl,
            TaskUrl = info.TaskUrl,
            Md5 = string.IsNullOrEmpty(info.Md5) ? null : info.Md5,
            Identifier = string.IsNullOrEmpty(info.Md5) ? info.Identifier : null,
            Path = info.Path,
            Headers = headers.Count == 0 ? null : headers,
            Dfdaemon = info.Dfdaemon,
            CallSystem = string.IsNullOrEmpty(info.CallSystem) ? null : info.CallSystem,
            Filter = info.Filter.Count == 0 ? null : info.Filter,
            PeerId = peerId,
            SupernodeIp = node.Host,
            PeerPattern = info.Pattern,
        };
        try
        {
            var created = await api.CreateTaskAsync(task, cancellationToken).ConfigureAwait(false);
            if (created?.Id is not { Length: > 0 } taskId || created.PieceSize is not > 0)
            {
                return new RegisterOutcome.Failed((int)LegacyCode.SystemError, $"register to {node}: malformed reply");
            }

            return new RegisterOutcome.Registered(new SupernodeRegistration(
                node, SupernodeApiKind.V1, taskId, created.FileLength ?? -1, created.PieceSize.Value, created.CdnSource == CdnSource.Source, peerId));
        }
        catch (SupernodeApiException e) when (e.StatusCode == NotSupported && !LooksLikeJson(e.Response))
        {
            await DeletePeerAsync(api, peerId, cancellationToken).ConfigureAwait(false);
            return new RegisterOutcome.Failed(NotSupported, $"{node} has no v1 task routes");
        }
        catch (SupernodeApiException e)
        {
            return new RegisterOutcome.Failed(ErrorCode(e), $"register to {node}: {Describe(e)}");
        }
    }

    public async Task<PullOutcome> PullAsync(SupernodeRegistration registration, string cid, PullReport report, CancellationToken cancellationToken)
    {
        var request = new PiecePullRequest
        {
            DstPid = report.AlreadyOnDisk ? cid : string.IsNullOrEmpty(report.DstId) ? null : report.DstId,
            DfgetTaskStatus = report.Status switch
            {
                ClientTaskStatus.Start => PiecePullStatus.Started,
                ClientTaskStatus.Finish => PiecePullStatus.Finished,
                _ => PiecePullStatus.Running,
            },
            PieceResult = report.Result switch
            {
                ClientPieceResult.Fail => PieceResult.Failed,
                ClientPieceResult.Success => PieceResult.Success,
                ClientPieceResult.SemiSuccess => PieceResult.SemiSuccess,
                _ => PieceResult.Invalid,
            },
            PieceRange = report.Range?.ToString(),
            WaitMs = (int)PullHold.TotalMilliseconds,
        };
        PiecePullResponse pulled;
        try
        {
            pulled = await For(registration.Node).PullPieceTasksAsync(registration.TaskId, cid, request, cancellationToken).ConfigureAwait(false);
        }
        catch (SupernodeApiException e)
        {
            var code = AnswerCode(e);
            return new PullOutcome.Failed(code ?? e.StatusCode, $"pull from {registration.Node}: {Describe(e)}", FromHttpStatus: code is null);
        }

        if (pulled is null)
        {
            return new PullOutcome.Failed((int)LegacyCode.SystemError, $"pull from {registration.Node}: empty reply");
        }

        switch (pulled.State)
        {
            case PiecePullState.Continue:
                var pieces = new List<PieceTask>();
                foreach (var info in pulled.Pieces ?? [])
                {
                    if (PieceRange.TryParse(info.PieceRange, out var range) && info.PieceSize is > 0 && info.PeerIp is not null && info.Path is not null)
                    {
                        pieces.Add(new PieceTask(
                            range, range.PieceNum, info.PieceSize.Value, PieceMd5.TryParse(info.PieceMd5, out var md5) ? md5 : null,
                            info.PeerId ?? string.Empty, info.PeerIp, info.PeerPort ?? 0, info.Path));
                    }
                }

                return new PullOutcome.Continue(pieces);
            case PiecePullState.Wait:
                return new PullOutcome.Wait(pulled.Message, Held: pulled.WaitedMs is not null);
            default:
                return new PullOutcome.Finished(pulled.Md5, pulled.FileLength ?? -1);
        }
    }

    /// <summary>
    /// A piece found on disk names this client as its <c>dstPID</c>: our supernode then counts it as reused, not as served
    /// by the uploader it scheduled (the legacy protocol keeps the scheduled uploader, which the original supernode's load
    /// accounting needs).
    /// </summary>
    public async Task ReportPieceSuccessAsync(SupernodeRegistration registration, string cid, PieceTask piece, bool alreadyOnDisk, CancellationToken cancellationToken)
    {
        var body = new PieceUpdateRequest { ClientId = cid, DstPid = alreadyOnDisk ? cid : piece.OwnerId, PieceStatus = PieceResult.Success };
        await For(registration.Node).UpdatePieceAsync(registration.TaskId, piece.Range.ToString(), body, cancellationToken).ConfigureAwait(false);
    }

    public async Task ReportPieceErrorAsync(
        SupernodeRegistration registration, string cid, PieceTask piece, PieceErrorKind kind, string? realMd5, CancellationToken cancellationToken)
    {
        var body = new PieceErrorRequest
        {
            TaskId = registration.TaskId,
            SrcCid = cid,
            DstPid = piece.OwnerId,
            DstIp = piece.PeerIp,
            Range = piece.Range.ToString(),
            RealMd5 = realMd5,
            ExpectedMd5 = piece.Md5?.Md5,
            ErrorType = kind == PieceErrorKind.FileNotExist ? PieceErrorType.FileNotExist : PieceErrorType.FileMd5NotMatch,
        };
        await For(registration.Node).ReportPieceErrorAsync(registration.TaskId, piece.Range.ToString(), body, cancellationToken).ConfigureAwait(false);
    }

    private static async Task DeletePeerAsync(ISupernodeClient api, string peerId, CancellationToken cancellationToken)
    {
        try
        {
            await api.DeletePeerAsync(peerId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or SupernodeApiException)
        {
            // Best effort: the original supernode forgets idle peers anyway.
        }
    }

    private SupernodeClient For(SupernodeAddress node) => new(client) { BaseUrl = node.BaseUri.ToString() };

    private static bool LooksLikeJson(string? text) => text is not null && text.TrimStart().StartsWith('{');

    /// <summary>The legacy code inside the answer's <c>ErrorResponse</c>, else the HTTP status.</summary>
    private static int ErrorCode(SupernodeApiException e) => AnswerCode(e) ?? e.StatusCode;

    /// <summary><c>HTTP 404 code 502: message</c>: the status, the code in the answer when it has one, and its message or text.</summary>
    private static string Describe(SupernodeApiException e)
    {
        var message = e is SupernodeApiException<ErrorResponse> { Result.Message: { Length: > 0 } typed } ? typed : e.Response?.Trim();
        var code = AnswerCode(e) is { } c ? $" code {c}" : string.Empty;
        return string.IsNullOrEmpty(message) ? $"HTTP {e.StatusCode}{code}" : $"HTTP {e.StatusCode}{code}: {message}";
    }

    /// <summary>
    /// The legacy code inside the answer's <c>ErrorResponse</c>: the generated client reads a declared error body into
    /// <see cref="SupernodeApiException{TResult}.Result"/> (its text then stays empty), an undeclared one into the text.
    /// Null when the answer carries none (a proxy's error page, say).
    /// </summary>
    private static int? AnswerCode(SupernodeApiException e) =>
        e is SupernodeApiException<ErrorResponse> { Result: { Code: not 0 } error } ? error.Code : BodyCode(e.Response);

    /// <summary>The legacy code inside an <c>ErrorResponse</c> body; null when the body carries none.</summary>
    private static int? BodyCode(string? text)
    {
        if (LooksLikeJson(text))
        {
            try
            {
                var error = System.Text.Json.JsonSerializer.Deserialize(text!, DragonflyJsonContext.Default.ErrorResponse);
                if (error is not null && error.Code != 0)
                {
                    return error.Code;
                }
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }

        return null;
    }
}
