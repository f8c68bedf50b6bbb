using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Dragonfly.Common.Pieces;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Uploader;
using Dragonfly.Dfget.WorkHome;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.Dfget.Tests.Uploader;

public sealed class PeerServerTests
{
    private const int FourMiB = 4 * 1024 * 1024;
    private const string Name = "test.bin-4242-1795238008.142";

    [Fact]
    public async Task Upload_LastPieceOf5MBFile_ReturnsWrappedTailPiece()
    {
        await using var host = await UploaderTestHost.StartAsync();
        var source = await host.AddTaskAsync(Name, 5_000_000);

        using var response = await host.GetPieceAsync(Name, "bytes=4194304-8388607", "1", "4194304");

        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        response.Content.Headers.ContentLength.Should().Be(805706);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        var body = await response.Content.ReadAsByteArrayAsync();
        body.Should().HaveCount(805706);
        body[..4].Should().Equal(0x04, 0x0c, 0x4b, 0x45);
        body[^1].Should().Be(0x7F);
        body.AsSpan(4, body.Length - 5).SequenceEqual(source.AsSpan(4194299)).Should().BeTrue();
    }

    [Fact]
    public async Task Upload_FirstPiece_ReturnsFullWrappedPiece()
    {
        await using var host = await UploaderTestHost.StartAsync();
        var source = await host.AddTaskAsync(Name, 5_000_000);

        using var response = await host.GetPieceAsync(Name, "bytes=0-4194303", "0", "4194304");

        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        var body = await response.Content.ReadAsByteArrayAsync();
        body.Should().HaveCount(FourMiB);
        body[..4].Should().Equal(0x04, 0x3f, 0xff, 0xfb);
        body[^1].Should().Be(0x7F);
        PieceFrame.TryUnwrap(body, out var content).Should().BeTrue();
        content.SequenceEqual(source.AsSpan(0, FourMiB - 5)).Should().BeTrue();
    }

    [Fact]
    public async Task Upload_EmptyFile_ReturnsFiveBytePiece()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 0);

        using var response = await host.GetPieceAsync(Name, "bytes=0-4194303", "0", "4194304");

        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(0x04, 0x00, 0x00, 0x00, 0x7f);
    }

    [Fact]
    public async Task Upload_CdnSourceHeader_ReturnsRawRangeWithoutFraming()
    {
        await using var host = await UploaderTestHost.StartAsync();
        var source = await host.AddTaskAsync(Name, 10_000);

        using var response = await host.GetPieceAsync(Name, "bytes=4096-8191", "1", "4096", source: true);

        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(source[4096..8192]);
    }

    [Fact]
    public async Task Upload_CdnSourceHeaderOnShortTail_ReturnsRemainingBytes()
    {
        await using var host = await UploaderTestHost.StartAsync();
        var source = await host.AddTaskAsync(Name, 10_000);

        using var response = await host.GetPieceAsync(Name, "bytes=8192-12287", "2", "4096", source: true);

        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(source[8192..]);
    }

    [Theory]
    [InlineData(null, "0", "4194304")]
    [InlineData("bytes=0-hello", "0", "4194304")]
    [InlineData("bytes=65575-0", "0", "4194304")]
    [InlineData("items=0-10", "0", "4194304")]
    [InlineData("bytes=0-4194303", null, "4194304")]
    [InlineData("bytes=0-4194303", "x", "4194304")]
    [InlineData("bytes=0-4194303", "-1", "4194304")]
    [InlineData("bytes=0-4194303", "0", null)]
    [InlineData("bytes=0-4194303", "0", "abc")]
    [InlineData("bytes=0-4194303", "0", "4")]
    [InlineData("bytes=0-4194303", "0", "1024")]
    public async Task Upload_InvalidPieceHeaders_Returns400(string? range, string? pieceNum, string? pieceSize)
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 1000);

        using var response = await host.GetPieceAsync(Name, range, pieceNum, pieceSize);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Upload_UnknownTask_Returns500()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await File.WriteAllBytesAsync(Path.Combine(host.DataDir, "other.service"), new byte[100]);

        using var response = await host.GetPieceAsync("other", "bytes=0-4194303", "0", "4194304");

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
    }

    [Fact]
    public async Task Upload_RegisteredTaskWithoutFile_Returns404()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 100);
        File.Delete(Path.Combine(host.DataDir, Name + ".service"));

        using var response = await host.GetPieceAsync(Name, "bytes=0-4194303", "0", "4194304");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Upload_ServiceFileIsASymlinkLeadingOutOfTheDataDir_Returns404AndServesNothing(bool overHttpLayer)
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 100);
        var secret = host.Temp.Combine("secret.txt");
        await File.WriteAllTextAsync(secret, "a secret outside the data dir");
        var service = Path.Combine(host.DataDir, Name + ".service");
        File.Delete(service);
        File.CreateSymbolicLink(service, secret);

        using var response = overHttpLayer
            ? await host.GetPieceOverHttpLayerAsync(Name, "bytes=0-99", "0", "4194304", source: true)
            : await host.GetPieceAsync(Name, "bytes=0-99", "0", "4194304", source: true);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().NotContain("secret");
        host.Server.Tasks.TryGet(Name, out var task).Should().BeTrue();
        task.BytesServed.Should().Be(0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Upload_ServiceFileIsAFifo_Returns404WithoutBlocking(bool overHttpLayer)
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 100);
        var service = Path.Combine(host.DataDir, Name + ".service");
        File.Delete(service);
        await ServiceFileOpenerTests.MakeFifoAsync(service);
        try
        {
            var request = overHttpLayer
                ? host.GetPieceOverHttpLayerAsync(Name, "bytes=0-99", "0", "4194304", source: true)
                : host.GetPieceAsync(Name, "bytes=0-99", "0", "4194304", source: true);
            using var response = await request.WaitAsync(TimeSpan.FromSeconds(10));

            response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        }
        finally
        {
            // Were the uploader stuck opening the FIFO, this releases it (a read-write open never blocks on Linux).
            ServiceFileOpenerTests.ReleaseFifo(service);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Upload_ServiceFileIsAUnixSocket_Returns404(bool overHttpLayer)
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 100);
        var service = Path.Combine(host.DataDir, Name + ".service");
        File.Delete(service);
        using var socket = ServiceFileOpenerTests.BindUnixSocket(service);

        using var response = overHttpLayer
            ? await host.GetPieceOverHttpLayerAsync(Name, "bytes=0-99", "0", "4194304", source: true)
            : await host.GetPieceAsync(Name, "bytes=0-99", "0", "4194304", source: true);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound, "a socket is not a regular file, like a link or a FIFO");
    }

    [Fact]
    public async Task Upload_StartBeyondEnd_Returns416()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 1000);

        using var response = await host.GetPieceAsync(Name, "bytes=4194304-8388607", "1", "4194304");

        response.StatusCode.Should().Be(HttpStatusCode.RequestedRangeNotSatisfiable);
        (await response.Content.ReadAsStringAsync()).Should().Be("range not satisfiable");
    }

    [Theory]
    [InlineData("/peer/file/..%2F..%2Fsecret")]
    [InlineData("/peer/file/..%2f..%2fsecret")]
    [InlineData("/peer/file/../secret")]
    [InlineData("/peer/file/..")]
    [InlineData("/peer/file/%2E%2E%2Fsecret")]
    [InlineData("/peer/file/..%5Csecret")]
    [InlineData("/peer/file/%5C..%5C..%5Csecret")]
    [InlineData("/peer/file/data%2F..%2F..%2Fsecret")]
    [InlineData("/peer/file/a%00b")]
    [InlineData("/peer/file/")]
    public async Task Upload_PathTraversalName_IsRejectedAndServesNothing(string rawPath)
    {
        await using var host = await UploaderTestHost.StartAsync();
        var secret = Encoding.ASCII.GetBytes("TOP-SECRET-CONTENT");
        await File.WriteAllBytesAsync(host.Temp.Combine("secret.service"), secret);
        await File.WriteAllBytesAsync(Path.Combine(host.DataDir, "..service"), secret);
        await host.AddTaskAsync(Name, 10);

        var (status, response) = await host.RawGetAsync(rawPath);

        status.Should().BeOneOf(400, 404, 500);
        response.Should().NotContain("TOP-SECRET");
    }

    [Theory]
    [InlineData("../secret")]
    [InlineData("..\\secret")]
    [InlineData("a/b")]
    public async Task Check_TraversalName_Returns400(string name)
    {
        await using var host = await UploaderTestHost.StartAsync();

        using var response = await host.CheckAsync(name, host.DataDir);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        host.Server.Tasks.Count.Should().Be(0);
    }

    [Fact]
    public async Task Check_ValidDataDir_RegistersTaskAndAnswersNameAtVersion()
    {
        await using var host = await UploaderTestHost.StartAsync();

        using var response = await host.CheckAsync(Name, host.DataDir, "1048576");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        (await response.Content.ReadAsStringAsync()).Should().Be($"{Name}@{DfgetVersion.Current}");
        host.Server.Tasks.TryGet(Name, out var task).Should().BeTrue();
        task.ServicePath.Should().Be(Path.Combine(host.DataDir, Name + ".service"));
        host.Server.RateLimiter.BytesPerSecond.Should().Be(1048576);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("relative/data")]
    [InlineData("/etc")]
    [InlineData("/definitely/not/existing/dir")]
    public async Task Check_DataDirNotServed_Returns400(string? dataDir)
    {
        await using var host = await UploaderTestHost.StartAsync();

        using var response = await host.CheckAsync(Name, dataDir);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        host.Server.Tasks.Count.Should().Be(0);
    }

    [Fact]
    public async Task Check_DataDirEscapingThroughDotDot_Returns400()
    {
        await using var host = await UploaderTestHost.StartAsync();

        using var response = await host.CheckAsync(Name, host.DataDir + "/../");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Check_SubDirectoryOfDataDir_IsAccepted()
    {
        await using var host = await UploaderTestHost.StartAsync();
        var sub = Directory.CreateDirectory(Path.Combine(host.DataDir, "sub")).FullName;

        using var response = await host.CheckAsync(Name, sub);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Check_SymlinkInsideDataDirLeadingOut_Returns400()
    {
        await using var host = await UploaderTestHost.StartAsync();
        var outside = Directory.CreateDirectory(host.Temp.Combine("outside")).FullName;
        var link = Path.Combine(host.DataDir, "escape");
        Directory.CreateSymbolicLink(link, outside);

        using var response = await host.CheckAsync(Name, link);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Check_InvalidTotalLimit_Returns400()
    {
        await using var host = await UploaderTestHost.StartAsync();

        using var response = await host.CheckAsync(Name, host.DataDir, "lots");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Rate_NotANumber_Returns400()
    {
        await using var host = await UploaderTestHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "rate/" + Name);
        request.Headers.TryAddWithoutValidation("rateLimit", "fast");

        using var response = await host.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Rate_TasksAskingMoreThanTotal_ShareProportionally()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync("a", 10, totalLimit: 1000);
        await host.AddTaskAsync("b", 10, totalLimit: 1000);

        var first = await RateAsync(host, "a", 500);
        var second = await RateAsync(host, "b", 1500);

        first.Should().Be(500, "alone, a asks less than the total");
        second.Should().Be(750, "1500 of the 2000 asked, scaled to the 1000 total");
        (await RateAsync(host, "a", 500)).Should().Be(250);
    }

    [Fact]
    public async Task Rate_FinishedTasksDoNotCount()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync("a", 10, totalLimit: 1000);
        await host.AddTaskAsync("b", 10, totalLimit: 1000);
        await RateAsync(host, "a", 1000);
        (await host.Client.GetAsync($"client/finish?taskFileName=a&taskID={new string('a', 64)}&cid=127.0.0.1-1-1.000&superNode=127.0.0.1:8002")).Dispose();

        (await RateAsync(host, "b", 800)).Should().Be(800);
    }

    [Fact]
    public void GrantRate_NoTotalLimit_GrantsRequest() =>
        UploaderRequestDispatcher.GrantRate(5000, 100000, 0).Should().Be(5000);

    [Theory]
    [InlineData("")]
    [InlineData("?taskFileName=a&taskID=x&cid=127.0.0.1-1-1.000")]
    [InlineData("?taskID=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&cid=127.0.0.1-1-1.000")]
    [InlineData("?taskFileName=a&taskID=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("?taskFileName=..%2Fa&taskID=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&cid=127.0.0.1-1-1.000")]
    public async Task Finish_MissingOrInvalidParams_Returns400(string query)
    {
        await using var host = await UploaderTestHost.StartAsync();

        using var response = await host.Client.GetAsync("client/finish" + query);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Be("invalid params");
    }

    [Fact]
    public async Task Finish_ValidParams_MarksTaskFinished()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 10);
        var taskId = new string('b', 64);

        using var response = await host.Client.GetAsync($"client/finish?taskFileName={Name}&taskID={taskId}&cid=127.0.0.1-7-1.500&superNode=127.0.0.1:8002");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("success");
        host.Server.Tasks.TryGet(Name, out var task).Should().BeTrue();
        task.Finished.Should().BeTrue();
        task.TaskId.Should().Be(taskId);
        task.Cid.Should().Be("127.0.0.1-7-1.500");
        task.SuperNode.Should().Be("127.0.0.1:8002");
    }

    [Fact]
    public async Task Finish_FromRemotePeer_Returns403AndLeavesTheTaskDownloading()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 10);

        var (status, _) = await DispatchAsync(host, "/client/finish", $"?taskFileName={Name}&taskID={new string('b', 64)}&cid=127.0.0.1-7-1.500&superNode=203.0.113.9:17799", Remote, OwnAddress);

        status.Should().Be(StatusCodes.Status403Forbidden);
        host.Server.Tasks.TryGet(Name, out var task).Should().BeTrue();
        task.Finished.Should().BeFalse("a peer must not make the uploader treat a running download as finished");
        task.SuperNode.Should().BeNull();
    }

    [Fact]
    public async Task Check_FromRemotePeer_Returns403AndRegistersNothing()
    {
        await using var host = await UploaderTestHost.StartAsync();

        var (status, _) = await DispatchAsync(host, "/check/" + Name, string.Empty, Remote, OwnAddress, ("dataDir", host.DataDir), ("totalLimit", "1"));

        status.Should().Be(StatusCodes.Status403Forbidden);
        host.Server.Tasks.Count.Should().Be(0);
        host.Server.RateLimiter.BytesPerSecond.Should().Be(0);
    }

    [Fact]
    public async Task Rate_FromRemotePeer_Returns403AndLeavesTheSharesAlone()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync("a", 10, totalLimit: 1000);
        await host.AddTaskAsync("b", 10, totalLimit: 1000);

        var (status, body) = await DispatchAsync(host, "/rate/b", string.Empty, Remote, OwnAddress, ("rateLimit", "1000000000"));

        status.Should().Be(StatusCodes.Status403Forbidden);
        body.Should().Be("only a local dfget may call this route");
        host.Server.Tasks.TryGet("b", out var b).Should().BeTrue();
        b.RequestedRate.Should().Be(0, "a peer must not claim a share of the host limit for a task");
        (await RateAsync(host, "a", 500)).Should().Be(500, "a alone asks less than the total");
    }

    [Fact]
    public async Task Rate_FromTheUploadersOwnAddress_IsAccepted()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync("a", 10, totalLimit: 1000);

        var (status, body) = await DispatchAsync(host, "/rate/a", string.Empty, OwnAddress, OwnAddress, ("rateLimit", "400"));

        status.Should().Be(StatusCodes.Status200OK);
        body.Should().Be("400");
    }

    [Fact]
    public async Task CheckAndFinish_FromTheUploadersOwnAddress_AreAccepted()
    {
        await using var host = await UploaderTestHost.StartAsync();

        var (check, _) = await DispatchAsync(host, "/check/" + Name, string.Empty, OwnAddress, OwnAddress, ("dataDir", host.DataDir));
        var (finish, _) = await DispatchAsync(host, "/client/finish", $"?taskFileName={Name}&taskID={new string('b', 64)}&cid=127.0.0.1-7-1.500", OwnAddress, OwnAddress);

        check.Should().Be(StatusCodes.Status200OK, "our dfget calls the uploader on the IP it is bound to");
        finish.Should().Be(StatusCodes.Status200OK);
        host.Server.Tasks.TryGet(Name, out var task).Should().BeTrue();
        task.Finished.Should().BeTrue();
    }

    [Fact]
    public async Task Finish_UnknownTask_Returns500AndRegistersNothing()
    {
        await using var host = await UploaderTestHost.StartAsync();

        using var response = await host.Client.GetAsync($"client/finish?taskFileName=victim-1&taskID={new string('b', 64)}&cid=127.0.0.1-7-1.500&superNode=127.0.0.1:17799");

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        host.Server.Tasks.Count.Should().Be(0, "only /check/ registers a task; its file is never ours to delete otherwise");
    }

    [Fact]
    public async Task Abandon_RegisteredTask_UnregistersItAndItsPiecesAnswer404()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 100);

        using var response = await host.Client.GetAsync($"client/abandon?taskFileName={Name}");
        using var piece = await host.GetPieceAsync(Name, "bytes=0-4194303", "0", "4194304");
        using var overHttpLayer = await host.GetPieceOverHttpLayerAsync(Name, "bytes=0-4194303", "0", "4194304");
        using var again = await host.Client.GetAsync($"client/abandon?taskFileName={Name}");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("success");
        host.Server.Tasks.TryGet(Name, out _).Should().BeFalse();
        piece.StatusCode.Should().Be(HttpStatusCode.NotFound, "the file is not served even before its client deletes it");
        overHttpLayer.StatusCode.Should().Be(HttpStatusCode.NotFound);
        again.StatusCode.Should().Be(HttpStatusCode.OK, "abandoning twice is no error");
        File.Exists(Path.Combine(host.DataDir, Name + ".service")).Should().BeTrue("the file belongs to its client, which deletes it");
    }

    [Fact]
    public async Task Abandon_ThenCheckAgain_ServesTheNameAgain()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 100);
        (await host.Client.GetAsync($"client/abandon?taskFileName={Name}")).Dispose();

        using var check = await host.CheckAsync(Name, host.DataDir);
        using var piece = await host.GetPieceAsync(Name, "bytes=0-4194303", "0", "4194304");

        check.StatusCode.Should().Be(HttpStatusCode.OK);
        piece.StatusCode.Should().Be(HttpStatusCode.PartialContent);
    }

    [Theory]
    [InlineData("", HttpStatusCode.BadRequest)]
    [InlineData("?taskFileName=..%2Fa", HttpStatusCode.BadRequest)]
    [InlineData("?taskFileName=never-registered", HttpStatusCode.InternalServerError)]
    public async Task Abandon_InvalidOrUnknownName_IsRefused(string query, HttpStatusCode expected)
    {
        await using var host = await UploaderTestHost.StartAsync();

        using var response = await host.Client.GetAsync("client/abandon" + query);

        response.StatusCode.Should().Be(expected);
    }

    [Fact]
    public async Task Abandon_FromRemotePeer_Returns403AndKeepsServing()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 100);

        var (status, _) = await DispatchAsync(host, "/client/abandon", $"?taskFileName={Name}", Remote, OwnAddress);
        using var piece = await host.GetPieceAsync(Name, "bytes=0-4194303", "0", "4194304");

        status.Should().Be(StatusCodes.Status403Forbidden);
        host.Server.Tasks.TryGet(Name, out _).Should().BeTrue();
        piece.StatusCode.Should().Be(HttpStatusCode.PartialContent);
    }

    [Fact]
    public async Task Check_RegistryFull_RefusesNewNamesWith503()
    {
        await using var host = await UploaderTestHost.StartAsync(o => o with { MaxTasks = 2 });
        await host.AddTaskAsync("a", 10);
        await host.AddTaskAsync("b", 10);

        using var refused = await host.CheckAsync("c", host.DataDir);
        using var again = await host.CheckAsync("a", host.DataDir);

        refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await refused.Content.ReadAsStringAsync()).Should().Be("too many tasks registered");
        again.StatusCode.Should().Be(HttpStatusCode.OK, "a registered task may check again");
        host.Server.Tasks.Count.Should().Be(2);
    }

    [Theory]
    [InlineData("0")]
    [InlineData(null)]
    public async Task Check_ZeroOrMissingTotalLimit_KeepsTheHostLimit(string? totalLimit)
    {
        await using var host = await UploaderTestHost.StartAsync(o => o with { TotalLimit = new Common.Rates.Rate(2_000_000) });
        await host.AddTaskAsync("a", 10, totalLimit: 1_000_000);

        using var response = await host.CheckAsync(Name, host.DataDir, totalLimit);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        host.Server.RateLimiter.BytesPerSecond.Should().Be(1_000_000, "as the original, only a positive totalLimit changes the host limit");
    }

    [Fact]
    public async Task Rate_HugeRequest_LaterRatesStillAnswer()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync("a", 10, totalLimit: 1000);
        await host.AddTaskAsync("b", 10, totalLimit: 1000);

        (await RateAsync(host, "a", long.MaxValue)).Should().Be(1000);
        (await RateAsync(host, "b", long.MaxValue)).Should().Be(1000, "the sum saturates instead of overflowing");
        (await RateAsync(host, "c", 100)).Should().Be(1, "an unregistered task's share of a saturated sum");
    }

    [Fact]
    public async Task Upload_CdnSourceRangeToLongMax_Returns400()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 1000);

        using var response = await host.GetPieceAsync(Name, "bytes=0-9223372036854775807", "0", "4194304", source: true);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Ping_ReturnsSuccessAsOctetStream()
    {
        await using var host = await UploaderTestHost.StartAsync();

        using var response = await host.Client.GetAsync("server/ping");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        (await response.Content.ReadAsStringAsync()).Should().Be("success");
    }

    [Fact]
    public async Task UnknownRoute_Returns404()
    {
        await using var host = await UploaderTestHost.StartAsync();

        using var response = await host.Client.GetAsync("peer/files");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Upload_ServedBytes_AreCountedPerTaskAndByMeter()
    {
        long measured = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == UploaderMetrics.MeterName && instrument.Name == UploaderMetrics.BytesServedName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "task" && (string?)tag.Value == Name)
                {
                    Interlocked.Add(ref measured, value);
                }
            }
        });
        listener.Start();
        await using var host = await UploaderTestHost.StartAsync();
        await host.AddTaskAsync(Name, 5_000_000);

        using (var r0 = await host.GetPieceAsync(Name, "bytes=0-4194303", "0", "4194304"))
        {
            (await r0.Content.ReadAsByteArrayAsync()).Should().HaveCount(FourMiB);
        }

        using (var r1 = await host.GetPieceAsync(Name, "bytes=4194304-8388607", "1", "4194304"))
        {
            (await r1.Content.ReadAsByteArrayAsync()).Should().HaveCount(805706);
        }

        host.Server.Tasks.TryGet(Name, out var task).Should().BeTrue();
        task.BytesServed.Should().Be(FourMiB + 805706);
        Interlocked.Read(ref measured).Should().Be(FourMiB + 805706);
    }

    [Fact]
    public async Task Upload_TotalLimit_ThrottlesConcurrentUploadsOfTwoTasks()
    {
        await using var host = await UploaderTestHost.StartAsync();
        var a = await host.AddTaskAsync("a", 200_000, totalLimit: 128 * 1024);
        var b = await host.AddTaskAsync("b", 200_000, totalLimit: 128 * 1024);
        var started = System.Diagnostics.Stopwatch.StartNew();

        var getA = FetchAsync(host, "a");
        var getB = FetchAsync(host, "b");
        var bodies = await Task.WhenAll(getA, getB);

        started.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(1.2), "262 KB at 128 KB/s takes about 2 s");
        bodies[0].AsSpan(4, 131067).SequenceEqual(a.AsSpan(0, 131067)).Should().BeTrue();
        bodies[1].AsSpan(4, 131067).SequenceEqual(b.AsSpan(0, 131067)).Should().BeTrue();

        static async Task<byte[]> FetchAsync(UploaderTestHost host, string name)
        {
            using var response = await host.GetPieceAsync(name, "bytes=0-131071", "0", "131072");
            response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
            return await response.Content.ReadAsByteArrayAsync();
        }
    }

    [Fact]
    public async Task Start_WritesHostMeta_AndStopZeroesIt()
    {
        var host = await UploaderTestHost.StartAsync();
        var meta = new HostMetaFile(host.Options.HostMetaPath!);
        (await meta.ReadPortAsync(CancellationToken.None)).Should().Be(host.Port);
        var raw = await File.ReadAllTextAsync(host.Options.HostMetaPath!);
        raw.Should().Be($"{{\"servicePort\":{host.Port}}}");

        await host.Server.StopAsync();

        (await File.ReadAllTextAsync(host.Options.HostMetaPath!)).Should().Be("{\"servicePort\":0}");
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Stop_AfterItsWorkHomeMetaWasDeleted_DoesNotRecreateIt()
    {
        var host = await UploaderTestHost.StartAsync();
        var metaDir = Path.GetDirectoryName(host.Options.HostMetaPath!)!;
        Directory.Delete(metaDir, recursive: true);

        await host.Server.StopAsync();

        Directory.Exists(metaDir).Should().BeFalse("an uploader on its way out only resets a host.meta that names it");
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Start_SecondUploaderForSameWorkHome_FailsWithLocked()
    {
        await using var host = await UploaderTestHost.StartAsync();
        await using var second = new PeerServer(host.Options, NullLoggerFactory.Instance);

        var act = () => second.StartAsync(CancellationToken.None);

        (await act.Should().ThrowAsync<UploaderStartException>()).Which.Failure.Should().Be(UploaderStartFailure.WorkHomeLocked);
        (await new HostMetaFile(host.Options.HostMetaPath!).ReadPortAsync(CancellationToken.None)).Should().Be(host.Port);
    }

    [Fact]
    public void CandidatePorts_FollowTheOriginalFormula()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_795_238_008);
        var expectedBase = 15000 + (int)(1_795_238_008L / 300 % 50000);

        UploaderOptions.CandidatePorts(now).Should().Equal(Enumerable.Range(expectedBase, 10));
    }

    private static readonly IPAddress Remote = IPAddress.Parse("203.0.113.7");
    private static readonly IPAddress OwnAddress = IPAddress.Parse("10.20.30.40");

    /// <summary>A request handed to the uploader's dispatcher as if it came from <paramref name="remote"/> to <paramref name="local"/>.</summary>
    private static async Task<(int Status, string Body)> DispatchAsync(UploaderTestHost host, string path, string query, IPAddress remote, IPAddress local, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        context.Connection.RemoteIpAddress = remote;
        context.Connection.LocalIpAddress = local;
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        using var body = new MemoryStream();
        context.Response.Body = body;
        await host.Server.Dispatcher.HandleAsync(context);
        return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()));
    }

    private static async Task<long> RateAsync(UploaderTestHost host, string name, long rate)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "rate/" + name);
        request.Headers.TryAddWithoutValidation("rateLimit", rate.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await host.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return long.Parse(await response.Content.ReadAsStringAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
