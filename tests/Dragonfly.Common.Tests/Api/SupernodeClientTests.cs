using System.Net;
using System.Text;
using Dragonfly.Common.Api.Client;
using Dragonfly.Common.Api.Models;

namespace Dragonfly.Common.Tests.Api;

/// <summary>The NSwag-generated client (built from apis/swagger.yml) against a recording in-memory handler.</summary>
public sealed class SupernodeClientTests
{
    [Fact]
    public async Task CreatePeerAsync_Created_PostsSchemaNamesAndReadsId()
    {
        var handler = new RecordingHandler(HttpStatusCode.Created, """{"ID":"host-127.0.0.1-1"}""");
        var client = CreateClient(handler);

        var response = await client.CreatePeerAsync(new PeerCreateRequest { Ip = "127.0.0.1", HostName = "host", Port = 15001 });

        response.Id.Should().Be("host-127.0.0.1-1");
        handler.Method.Should().Be(HttpMethod.Post);
        handler.Uri!.AbsoluteUri.Should().Be("http://supernode:8002/api/v1/peers");
        handler.Body.Should().Be("""{"IP":"127.0.0.1","hostName":"host","port":15001}""");
    }

    [Fact]
    public async Task GetTaskAsync_NotFound_ThrowsWithErrorResponse()
    {
        var client = CreateClient(new RecordingHandler(HttpStatusCode.NotFound, """{"code":404,"message":"task x not found"}"""));

        var act = () => client.GetTaskAsync("x");

        var thrown = await act.Should().ThrowAsync<SupernodeApiException<ErrorResponse>>();
        thrown.Which.StatusCode.Should().Be(404);
        thrown.Which.Result.Message.Should().Be("task x not found");
    }

    [Fact]
    public async Task PullPieceTasksAsync_TypedRequest_SendsQueryAndReadsOutcome()
    {
        var handler = new RecordingHandler(HttpStatusCode.OK, """{"state":"finished","md5":"m","fileLength":15}""");
        var client = CreateClient(handler);
        var request = new PiecePullRequest { DfgetTaskStatus = PiecePullStatus.Running, PieceResult = PieceResult.Success, PieceRange = "0-4194303", DstPid = "p1" };

        var outcome = await client.PullPieceTasksAsync("t1", "c1", request, CancellationToken.None);

        outcome.Should().Be(PiecePullResponse.Finished("m", 15));
        handler.Uri!.PathAndQuery.Should().Be("/api/v1/tasks/t1/pieces?clientID=c1&dfgetTaskStatus=RUNNING&dstPID=p1&pieceResult=SUCCESS&pieceRange=0-4194303");
    }

    [Fact]
    public async Task DeletePeerAsync_NoContent_Completes()
    {
        var handler = new RecordingHandler(HttpStatusCode.NoContent, string.Empty);

        await CreateClient(handler).DeletePeerAsync("p1");

        handler.Method.Should().Be(HttpMethod.Delete);
        handler.Uri!.AbsolutePath.Should().Be("/api/v1/peers/p1");
    }

    [Fact]
    public async Task RegisterLegacyAsync_Success_ReturnsEnvelopeData()
    {
        var client = CreateClient(new RecordingHandler(HttpStatusCode.OK,
            """{"code":200,"msg":"success","data":{"taskId":"t","fileLength":-1,"pieceSize":4194304,"cdnSource":"supernode","asSeed":false,"seedTaskID":""}}"""));

        var reply = await client.RegisterLegacyAsync(new TaskRegisterRequest { RawUrl = "http://o/a", Cid = "c" });

        reply.Code.Should().Be(200);
        reply.GetData(Dragonfly.Common.Api.DragonflyJsonContext.Default.RegisterResult)!.PieceSize.Should().Be(4194304);
    }

    [Fact]
    public async Task PingAsync_TextReply_ReadsOk()
    {
        var client = CreateClient(new RecordingHandler(HttpStatusCode.OK, "OK", "text/plain"));

        var text = await (await client.PingAsync()).ReadAsStringAsync(CancellationToken.None);

        text.Should().Be("OK");
    }

    private static SupernodeClient CreateClient(RecordingHandler handler) =>
        new(new HttpClient(handler) { BaseAddress = new Uri("http://supernode:8002/") });

    private sealed class RecordingHandler(HttpStatusCode status, string body, string mediaType = "application/json") : HttpMessageHandler
    {
        public HttpMethod? Method { get; private set; }

        public Uri? Uri { get; private set; }

        public string? Body { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Method = request.Method;
            Uri = request.RequestUri;
            Body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
            return new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
        }
    }
}
