using System.Net;
using System.Net.Sockets;
using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Nodes;
using Dragonfly.Common.Pieces;
using Dragonfly.Dfget.Registration;
using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.Registration;

public sealed class SupernodeSessionTests : IDisposable
{
    private readonly DfgetHttpClients _clients = new();
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        _clients.Dispose();
        _cts.Dispose();
    }

    [Fact]
    public async Task RegisterAsync_SupernodeWithoutV1TaskRoutes_FallsBackToLegacyProtocol()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        var session = Create([Node(server.Port)]);

        var outcome = await session.RegisterAsync(_cts.Token);

        var registration = outcome.Should().BeOfType<RegisterOutcome.Registered>().Subject.Registration;
        registration.Api.Should().Be(SupernodeApiKind.Legacy);
        registration.TaskId.Should().Be(FakeSupernodeServer.TaskId);
        registration.PieceSize.Should().Be(4194304);
        server.Requests.Select(r => (r.Method, r.Path)).Should().ContainInOrder(("POST", "/api/v1/tasks"), ("POST", "/peer/registry"));
        var registry = server.Requests.Single(r => r.Path == "/peer/registry").Body;
        registry.Should().Contain("\"rawURL\":\"http://origin/a.bin?x=1\"").And.Contain("\"cID\":\"127.0.0.1-1-2.000\"").And.Contain("\"headers\":[\"A: b\"]");
    }

    [Fact]
    public async Task PullAsync_Legacy_SendsRawQueryAndParsesPieces()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        var session = Create([Node(server.Port)]);
        await session.RegisterAsync(_cts.Token);

        var first = await session.PullAsync(PullReport.Start, _cts.Token);

        server.Requests.Last().Query.Should().Be($"?srcCid=127.0.0.1-1-2.000&dstCid=&range=&result=502&status=700&taskId={FakeSupernodeServer.TaskId}");
        var piece = first.Should().BeOfType<PullOutcome.Continue>().Subject.Pieces.Should().ContainSingle().Subject;
        piece.OwnerId.Should().Be("cdnnode:127.0.0.1~" + FakeSupernodeServer.TaskId);
        piece.IsSupernode.Should().BeTrue();
        piece.Md5!.Value.WrappedLength.Should().Be(105);

        // Legacy keeps the scheduled uploader even for a piece found on disk: the original supernode's load accounting needs it.
        await session.ReportPieceSuccessAsync(piece, alreadyOnDisk: true, _cts.Token);
        var report = new PullReport(ClientTaskStatus.Running, ClientPieceResult.SemiSuccess, piece.Range, piece.OwnerId, AlreadyOnDisk: true);
        server.PullCode = 600;
        var second = await session.PullAsync(report, _cts.Token);

        server.Requests.Should().Contain(r => r.Path == "/peer/piece/suc"
            && r.Query == $"?taskId={FakeSupernodeServer.TaskId}&cid=127.0.0.1-1-2.000&dstCid=cdnnode:127.0.0.1~{FakeSupernodeServer.TaskId}&pieceRange=0-4194303");
        server.Requests.Last().Query.Should().Contain($"dstCid=cdnnode:127.0.0.1~{FakeSupernodeServer.TaskId}&range=0-4194303&result=503&status=701");
        second.Should().BeOfType<PullOutcome.Finished>().Which.WrappedLength.Should().Be(105);
    }

    [Fact]
    public async Task PullAsync_LegacyCode500_ReturnsFailedWithCode()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        server.PullCode = 500;
        var session = Create([Node(server.Port)]);
        await session.RegisterAsync(_cts.Token);

        var outcome = await session.PullAsync(PullReport.Start, _cts.Token);

        outcome.Should().BeOfType<PullOutcome.Failed>().Which.Code.Should().Be(500);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PullAsync_SupernodeNoLongerKnowsTheTask_GivesItsCode502FromTheAnswer(bool v1)
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: v1);
        server.PullCode = 502;
        server.V1PullStatus = 404;
        server.V1PullBody = "{\"code\":502,\"message\":\"task not found\"}";
        var session = Create([Node(server.Port)]);
        await session.RegisterAsync(_cts.Token);

        var outcome = await session.PullAsync(PullReport.Start, _cts.Token);

        var failed = outcome.Should().BeOfType<PullOutcome.Failed>().Subject;
        failed.Code.Should().Be(502);
        failed.FromHttpStatus.Should().BeFalse("the code is the supernode's own answer");
        if (v1)
        {
            failed.Message.Should().EndWith(": HTTP 404 code 502: task not found", "the log line names the code and the supernode's message");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PullAsync_GatewayAnswers502_IsABareHttpStatus(bool v1)
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: v1);
        var session = Create([Node(server.Port)]);
        await session.RegisterAsync(_cts.Token);
        server.GatewayStatus = 502;

        var outcome = await session.PullAsync(PullReport.Start, _cts.Token);

        var failed = outcome.Should().BeOfType<PullOutcome.Failed>().Subject;
        failed.Code.Should().Be(502);
        failed.FromHttpStatus.Should().BeTrue("a proxy's 502 page is not the supernode saying it forgot the task");
        if (v1)
        {
            failed.Message.Should().EndWith(": HTTP 502: <html>bad gateway</html>", "an answer without a code says so rather than printing an empty one");
        }
    }

    [Fact]
    public async Task RegisterAsync_SupernodeResetsEveryConnection_FailsAsATransportErrorEveryTime()
    {
        // A supernode dying mid-accept. Most resets surface as HttpRequestException; now and then as a bare
        // SocketException, which used to escape the session and crash dfget (exit 134).
        using var server = new ResettingServer();
        var session = Create([Node(server.Port)]);

        for (var i = 0; i < 1500; i++)
        {
            var outcome = await session.RegisterAsync(_cts.Token);

            outcome.Should().BeOfType<RegisterOutcome.Failed>().Which.Code.Should().Be(SupernodeHttp.TransportError);
        }

        server.Accepted.Should().BeGreaterThanOrEqualTo(1500);
    }

    [Fact]
    public async Task RegisterAsync_V1Supernode_UsesV1Routes()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: true);
        var session = Create([Node(server.Port)]);

        var outcome = await session.RegisterAsync(_cts.Token);
        var pull = await session.PullAsync(PullReport.Start, _cts.Token);

        outcome.Should().BeOfType<RegisterOutcome.Registered>().Which.Registration.Api.Should().Be(SupernodeApiKind.V1);
        server.Requests.Should().NotContain(r => r.Path == "/peer/registry");
        var task = server.Requests.Single(r => r.Path == "/api/v1/tasks").Body;
        task.Should().Contain("\"peerID\":\"host-127.0.0.1-1\"").And.Contain("\"headers\":{\"A\":\"b\"}");
        var pullRequest = server.Requests.Last();
        pullRequest.Path.Should().Be($"/api/v1/tasks/{FakeSupernodeServer.TaskId}/pieces");
        pullRequest.Query.Should().Contain("clientID=127.0.0.1-1-2.000").And.Contain("dfgetTaskStatus=STARTED").And.Contain("pieceResult=INVALID");
        pull.Should().BeOfType<PullOutcome.Finished>().Which.Md5.Should().Be("0123456789abcdef0123456789abcdef");
    }

    [Fact]
    public async Task ReportPieceSuccessAsync_V1_APieceFoundOnDiskNamesThisClientAsItsSource()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: true);
        var session = Create([Node(server.Port)]);
        await session.RegisterAsync(_cts.Token);
        var range = new PieceRange(4194304, 8388607);
        var piece = new PieceTask(range, 1, 4194304, null, "127.0.0.2-9-1.000", "127.0.0.2", 15001, "/peer/file/x");
        const string Pieces = $"/api/v1/tasks/{FakeSupernodeServer.TaskId}/pieces";

        await session.ReportPieceSuccessAsync(piece, alreadyOnDisk: false, _cts.Token);
        await session.ReportPieceSuccessAsync(piece, alreadyOnDisk: true, _cts.Token);
        await session.PullAsync(new PullReport(ClientTaskStatus.Running, ClientPieceResult.SemiSuccess, range, piece.OwnerId), _cts.Token);
        await session.PullAsync(new PullReport(ClientTaskStatus.Running, ClientPieceResult.SemiSuccess, range, piece.OwnerId, AlreadyOnDisk: true), _cts.Token);

        var updates = server.Requests.Where(r => r.Method == "PUT" && r.Path == $"{Pieces}/4194304-8388607").Select(r => r.Body).ToList();
        updates.Should().HaveCount(2);
        updates[0].Should().Contain("\"dstPID\":\"127.0.0.2-9-1.000\"", "a fetched piece names the uploader that served it");
        updates[1].Should().Contain("\"dstPID\":\"127.0.0.1-1-2.000\"", "a piece found on disk was served by nobody, so the supernode must not count it");
        var pulls = server.Requests.Where(r => r.Path == Pieces).Select(r => r.Query).ToList();
        pulls[^2].Should().Contain("dstPID=127.0.0.2-9-1.000");
        pulls[^1].Should().Contain("dstPID=127.0.0.1-1-2.000").And.Contain("pieceResult=SEMISUC");
    }

    [Fact]
    public async Task ReportPieceSuccessAsync_RegisteredAgainBeforeARetry_DoesNotRetryIntoTheNewRegistration()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: true);
        var session = Create([Node(server.Port)]);
        await session.RegisterAsync(_cts.Token);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.OnPieceUpdate = async () =>
        {
            arrived.TrySetResult();
            await answer.Task;
            return Results.Text("{\"code\":502,\"message\":\"task not found\"}", "application/json", statusCode: 404);
        };
        var piece = new PieceTask(new PieceRange(0, 4194303), 0, 4194304, null, "127.0.0.2-9-1.000", "127.0.0.2", 15001, "/peer/file/x");

        // The first try meets the supernode that forgot the task; before its retry the client has registered again (same
        // node, task id and cid), so a retry would be counted by the recreated task as a transfer it never scheduled.
        var report = session.ReportPieceSuccessAsync(piece, alreadyOnDisk: false, _cts.Token);
        await arrived.Task.WaitAsync(_cts.Token);
        (await session.RejoinAsync(_cts.Token)).Should().BeOfType<RegisterOutcome.Registered>();
        answer.SetResult();
        await report;

        server.Requests.Count(r => r.Method == "PUT").Should().Be(1, "the report belonged to the registration that was replaced");
    }

    [Fact]
    public async Task PullAsync_V1_AsksTheSupernodeToHoldAWaitAndKnowsWhenItDid()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: true);
        var session = Create([Node(server.Port)]);
        await session.RegisterAsync(_cts.Token);

        server.V1PullBody = "{\"state\":\"wait\",\"message\":\"cdn status is wait\",\"waitedMs\":1000}";
        var held = await session.PullAsync(PullReport.Start, _cts.Token);
        server.V1PullBody = "{\"state\":\"wait\",\"message\":\"peer task wait\"}";
        var notHeld = await session.PullAsync(PullReport.Start, _cts.Token);

        server.Requests.Last().Query.Should().Contain("waitMs=1000");
        held.Should().BeOfType<PullOutcome.Wait>().Which.Held.Should().BeTrue();
        notHeld.Should().BeOfType<PullOutcome.Wait>().Which.Held.Should().BeFalse("a supernode that did not hold the answer leaves the client to back off");
    }

    [Fact]
    public async Task RegisterAsync_CdnPeerWithPort0_UsesLegacyRegistryEvenOnV1Supernode()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: true);
        var factory = new SupernodeSessionFactory(_clients, TimeProvider.System, NullLoggerFactory.Instance);
        var session = factory.Create([Node(server.Port)], new RegistrationInfo
        {
            RawUrl = "http://origin/a.bin",
            TaskUrl = "http://origin/a.bin",
            Cid = "127.0.0.1-1-2.000",
            Ip = "127.0.0.1",
            HostName = "host",
            Path = "/peer/file/a.bin-1-2.000",
            Port = 0,
            Pattern = "cdn",
        }, new Random(1));

        var outcome = await session.RegisterAsync(_cts.Token);

        outcome.Should().BeOfType<RegisterOutcome.Registered>().Which.Registration.Api.Should().Be(SupernodeApiKind.Legacy);
        server.Requests.Should().NotContain(r => r.Path.StartsWith("/api/v1/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RegisterAsync_FirstNodeUnreachable_RegistersWithNextNode()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        var session = Create([Node(ClosedPort()), Node(server.Port)]);

        var outcome = await session.RegisterAsync(_cts.Token);

        outcome.Should().BeOfType<RegisterOutcome.Registered>().Which.Registration.Node.Port.Should().Be(server.Port);
    }

    [Fact]
    public async Task RegisterAsync_NoNodeReachable_FailsWithTransportCode()
    {
        var session = Create([Node(ClosedPort())]);

        var outcome = await session.RegisterAsync(_cts.Token);

        outcome.Should().BeOfType<RegisterOutcome.Failed>().Which.Code.Should().Be(-100);
    }

    [Fact]
    public async Task RecoverAsync_OnlyNodeComesBackOnItsPort_RegistersWithIt()
    {
        var port = ClosedPort();
        var session = Create([Node(port)]);
        (await session.RegisterAsync(_cts.Token)).Should().BeOfType<RegisterOutcome.Failed>();

        var recovering = session.RecoverAsync(TimeSpan.FromSeconds(30), _cts.Token);
        await Task.Delay(700, _cts.Token);
        recovering.IsCompleted.Should().BeFalse("nothing listens yet, so the session keeps trying");
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: false, port);

        var outcome = await recovering;

        outcome.Should().BeOfType<RegisterOutcome.Registered>().Which.Registration.Node.Port.Should().Be(port);
        session.Current!.Node.Port.Should().Be(port);
        server.Requests.Should().Contain(r => r.Path == "/peer/registry");
    }

    [Fact]
    public async Task RecoverAsync_NothingComesBack_FailsWithTransportCodeAfterTheWindow()
    {
        var session = Create([Node(ClosedPort()), Node(ClosedPort())]);

        var outcome = await session.RecoverAsync(TimeSpan.FromSeconds(1), _cts.Token);

        var failed = outcome.Should().BeOfType<RegisterOutcome.Failed>().Subject;
        failed.Code.Should().Be(-100);
        failed.Message.Should().Contain("within 1 s");
    }

    [Fact]
    public async Task RecoverAsync_ZeroWindow_GivesUpAtOnce()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        var session = Create([Node(server.Port)]);

        (await session.RecoverAsync(TimeSpan.Zero, _cts.Token)).Should().BeOfType<RegisterOutcome.Failed>();
        server.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task MigrateAsync_NextNodeDiffers_RegistersThere()
    {
        await using var first = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        await using var second = await FakeSupernodeServer.StartAsync(hasV1Tasks: true);
        var session = Create([Node(first.Port), Node(first.Port), Node(second.Port)]);
        await session.RegisterAsync(_cts.Token);

        var migrated = await session.MigrateAsync(_cts.Token);

        migrated.Should().BeOfType<RegisterOutcome.Registered>().Which.Registration.Node.Port.Should().Be(second.Port);
        session.Current!.Api.Should().Be(SupernodeApiKind.V1);
    }

    [Fact]
    public async Task ServiceDownAsync_AfterAMigration_TellsTheEarlierSupernodeToo()
    {
        await using var first = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        await using var second = await FakeSupernodeServer.StartAsync(hasV1Tasks: true);
        var session = Create([Node(first.Port), Node(second.Port)]);
        await session.RegisterAsync(_cts.Token);
        await session.MigrateAsync(_cts.Token);

        await session.ServiceDownAsync(_cts.Token);

        var expected = $"?taskId={FakeSupernodeServer.TaskId}&cid=127.0.0.1-1-2.000";
        first.Requests.Where(r => r.Path == "/peer/service/down").Should().ContainSingle("it may have recovered and still send peers here").Which.Query.Should().Be(expected);
        second.Requests.Where(r => r.Path == "/peer/service/down").Should().ContainSingle().Which.Query.Should().Be(expected);
    }

    [Fact]
    public async Task ServiceDownAsync_EarlierSupernodeHangs_TellsTheCurrentOneMeanwhile()
    {
        await using var first = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        await using var second = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        first.ServiceDownHangs = true;
        var session = Create([Node(first.Port), Node(second.Port)]);
        await session.RegisterAsync(_cts.Token);
        await session.MigrateAsync(_cts.Token);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);

        var down = session.ServiceDownAsync(budget.Token);
        while (!second.Requests.Any(r => r.Path == "/peer/service/down") || !first.Requests.Any(r => r.Path == "/peer/service/down"))
        {
            await Task.Delay(10, _cts.Token);
        }

        down.IsCompleted.Should().BeFalse("the earlier supernode does not answer");
        await budget.CancelAsync();
        var act = () => down;
        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task ServiceDownAsync_NotRegistered_SendsNothing()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        var session = Create([Node(server.Port)]);

        await session.ServiceDownAsync(_cts.Token);

        server.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task MigrateAsync_OnlySameNodeLeft_Fails()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: false);
        var session = Create([Node(server.Port), Node(server.Port)]);
        await session.RegisterAsync(_cts.Token);

        var migrated = await session.MigrateAsync(_cts.Token);

        migrated.Should().BeOfType<RegisterOutcome.Failed>();
    }

    [Fact]
    public async Task ReRegisterAsync_AsCdnPeer_RegistersAgainWithTheCurrentNodeThroughTheLegacyRegistry()
    {
        await using var server = await FakeSupernodeServer.StartAsync(hasV1Tasks: true);
        var session = Create([Node(ClosedPort()), Node(server.Port)]);
        await session.RegisterAsync(_cts.Token);
        var p2p = server.Requests.Count;

        var outcome = await session.ReRegisterAsync(Info() with { Port = 0, Pattern = "cdn" }, _cts.Token);
        await session.PullAsync(PullReport.Start, _cts.Token);

        outcome.Should().BeOfType<RegisterOutcome.Registered>().Which.Registration.Node.Port.Should().Be(server.Port);
        session.Current!.Api.Should().Be(SupernodeApiKind.Legacy, "a cdn peer (port 0) registers through /peer/registry");
        var registry = server.Requests.Skip(p2p).Should().Contain(r => r.Path == "/peer/registry").Subject.Body;
        registry.Should().Contain("\"port\":0").And.Contain("\"cID\":\"127.0.0.1-1-2.000\"");
        server.Requests.Last().Path.Should().Be("/peer/task");
    }

    [Fact]
    public async Task ReRegisterAsync_OtherCid_Throws()
    {
        var session = Create([Node(ClosedPort())]);

        var act = () => session.ReRegisterAsync(Info() with { Cid = "127.0.0.1-9-9.000" }, _cts.Token);

        await act.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task WarmUpRetryAsync_BuildsTheReportPipelineAndRunsItOnce()
    {
        // The start-up warm-up builds the same pipeline the reports use: options Polly rejects would throw here.
        var warmup = SupernodeSession.WarmUpRetryAsync();

        await warmup;
        warmup.IsCompletedSuccessfully.Should().BeTrue();
    }

    private static SupernodeAddress Node(int port) => new("127.0.0.1", port, 1);

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static RegistrationInfo Info() => new()
    {
        RawUrl = "http://origin/a.bin?x=1",
        TaskUrl = "http://origin/a.bin?x=1",
        Cid = "127.0.0.1-1-2.000",
        Ip = "127.0.0.1",
        HostName = "host",
        Path = "/peer/file/a.bin-1-2.000",
        Port = 15001,
        Headers = ["A: b"],
    };

    private ISupernodeSession Create(IReadOnlyList<SupernodeAddress> nodes)
    {
        var factory = new SupernodeSessionFactory(_clients, TimeProvider.System, NullLoggerFactory.Instance);
        return factory.Create(nodes, Info(), new Random(1));
    }
}
