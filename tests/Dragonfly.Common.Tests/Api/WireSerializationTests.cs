using System.Text.Json;
using System.Text.Json.Nodes;
using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Legacy;
using Dragonfly.Common.Api.Models;

namespace Dragonfly.Common.Tests.Api;

public sealed class WireSerializationTests
{
    private static readonly DragonflyJsonContext Json = DragonflyJsonContext.Default;

    [Fact]
    public void Deserialize_RegisterBodyWithDfgetCasing_BindsEveryField()
    {
        const string body = """
            {"superNodeIp":"10.0.0.1","rawUrl":"http://origin/a.bin?x=1","taskUrl":"http://origin/a.bin","cid":"127.0.0.1-76-1795238008.142",
             "ip":"127.0.0.1","hostName":"host-a","port":15001,"path":"/peer/file/a.bin-76-1795238008.142","version":"1.0.6",
             "md5":"abc","identifier":"id","callSystem":"cs","headers":["Range: bytes=0-1"],"dfdaemon":true,"insecure":true,
             "rootCAs":["AAEC"],"taskId":"t","fileLength":10,"asSeed":true,"pattern":"p2p"}
            """;

        var request = JsonSerializer.Deserialize(body, Json.TaskRegisterRequest)!;

        request.Should().BeEquivalentTo(new TaskRegisterRequest
        {
            SuperNodeIp = "10.0.0.1",
            RawUrl = "http://origin/a.bin?x=1",
            TaskUrl = "http://origin/a.bin",
            Cid = "127.0.0.1-76-1795238008.142",
            Ip = "127.0.0.1",
            HostName = "host-a",
            Port = 15001,
            Path = "/peer/file/a.bin-76-1795238008.142",
            Version = "1.0.6",
            Md5 = "abc",
            Identifier = "id",
            CallSystem = "cs",
            Headers = ["Range: bytes=0-1"],
            Dfdaemon = true,
            Insecure = true,
            RootCAs = [[0, 1, 2]],
            TaskId = "t",
            FileLength = 10,
            AsSeed = true,
            Pattern = "p2p",
        });
    }

    [Fact]
    public void Serialize_RegisterRequest_WritesDocumentedNames()
    {
        var request = new TaskRegisterRequest { RawUrl = "http://o/a", TaskUrl = "http://o/a", Cid = "c", Ip = "127.0.0.1", HostName = "h", Port = 15001 };

        var json = JsonSerializer.Serialize(request, Json.TaskRegisterRequest);

        json.Should().Be("""{"rawURL":"http://o/a","taskURL":"http://o/a","cID":"c","IP":"127.0.0.1","hostName":"h","port":15001}""");
    }

    [Fact]
    public void Serialize_UnsetOptionalFields_AreOmitted()
    {
        JsonSerializer.Serialize(new PeerCreateResponse(), Json.PeerCreateResponse).Should().Be("{}");
        JsonSerializer.Serialize(new HeartBeatResponse(), Json.HeartBeatResponse).Should().Be("{}");
        JsonSerializer.Serialize(new NetworkInfoFetchResponse(), Json.NetworkInfoFetchResponse).Should().Be("{}");
    }

    [Fact]
    public void Serialize_TaskCreateRequestWithoutFilter_WritesFilterNull()
    {
        var json = JsonSerializer.Serialize(new TaskCreateRequest { Cid = "c" }, Json.TaskCreateRequest);

        json.Should().Be("""{"cID":"c","filter":null}""");
    }

    [Fact]
    public void Serialize_PeerInfoCreated_WritesRfc3339UtcMillis()
    {
        var peer = new PeerInfo { Id = "p", Created = new DateTimeOffset(2026, 11, 21, 7, 13, 17, 795, TimeSpan.FromHours(2)) };

        var json = JsonSerializer.Serialize(peer, Json.PeerInfo);

        json.Should().Be("""{"ID":"p","created":"2026-11-21T05:13:17.795Z"}""");
        JsonSerializer.Deserialize(json, Json.PeerInfo)!.Created.Should().Be(peer.Created);
    }

    [Fact]
    public void Serialize_Registered_MatchesOriginalEnvelope()
    {
        var reply = LegacyResults.Registered(new RegisterResult { TaskId = "t", FileLength = -1, PieceSize = 4194304, CdnSource = CdnSource.Supernode });

        var json = JsonSerializer.Serialize(reply, Json.ResultInfo);

        JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse("""
            {"code":200,"msg":"success","data":{"taskId":"t","fileLength":-1,"pieceSize":4194304,"cdnSource":"supernode","asSeed":false,"seedTaskID":""}}
            """)).Should().BeTrue(json);
    }

    [Fact]
    public void Deserialize_ContinueEnvelope_RoundTripsPieces()
    {
        var item = new PullPieceTaskItem
        {
            Range = "0-4194303", PieceNum = 0, PieceSize = 4194304, PieceMd5 = "d41d8cd98f00b204e9800998ecf8427e:4194304",
            Cid = "cdnnode:10.0.0.1~t", PeerIp = "10.0.0.1", PeerPort = 8001, Path = "/download/6da/t", DownLink = 0,
        };
        var json = JsonSerializer.Serialize(LegacyResults.Continue([item]), Json.ResultInfo);

        var reply = JsonSerializer.Deserialize(json, Json.ResultInfo)!;

        json.Should().Contain("\"downLink\":0").And.Contain("\"code\":601");
        LegacyResults.CodeOf(reply).Should().Be(LegacyCode.PeerContinue);
        reply.GetData(Json.IReadOnlyListPullPieceTaskItem).Should().ContainSingle().Which.Should().Be(item);
    }

    [Fact]
    public void Deserialize_FinishEnvelope_ReadsFinishData()
    {
        var reply = JsonSerializer.Deserialize("""{"code":600,"msg":"peer task end","data":{"md5":"f56e","fileLength":10485775}}""", Json.ResultInfo)!;

        reply.GetData(Json.PeerFinishData).Should().Be(new PeerFinishData { Md5 = "f56e", FileLength = 10485775 });
    }

    [Theory]
    [InlineData(LegacyCode.GetPieceReport, """{"code":611}""")]
    [InlineData(LegacyCode.GetPeerDown, """{"code":612}""")]
    public void Serialize_CodeOnly_WritesJustTheCode(LegacyCode code, string expected)
    {
        JsonSerializer.Serialize(LegacyResults.CodeOnly(code), Json.ResultInfo).Should().Be(expected);
    }

    [Fact]
    public void Serialize_Wait_HasNoData()
    {
        var json = JsonSerializer.Serialize(LegacyResults.Wait(), Json.ResultInfo);

        json.Should().Be("""{"code":602,"msg":"peer task wait"}""");
        JsonSerializer.Deserialize(json, Json.ResultInfo)!.GetData(Json.PeerFinishData).Should().BeNull();
    }

    [Fact]
    public void Serialize_TypedEnvelope_MatchesUntypedShape()
    {
        var typed = new ResultInfo<PeerFinishData> { Code = 600, Msg = "peer task end", Data = new PeerFinishData { Md5 = "m", FileLength = 5 } };

        JsonSerializer.Serialize(typed, Json.ResultInfoPeerFinishData)
            .Should().Be(JsonSerializer.Serialize(ResultInfo.From(typed, Json.PeerFinishData), Json.ResultInfo));
    }

    [Fact]
    public void Serialize_PiecePullOutcomes_UseLowercaseState()
    {
        JsonSerializer.Serialize(PiecePullResponse.Wait(), Json.PiecePullResponse).Should().Be("""{"state":"wait"}""");
        JsonSerializer.Serialize(PiecePullResponse.Finished("m", 15), Json.PiecePullResponse)
            .Should().Be("""{"state":"finished","md5":"m","fileLength":15}""");
        JsonSerializer.Serialize(PiecePullResponse.Continue([new PieceInfo { PeerId = "p", PieceRange = "0-3", PieceMd5 = "x:4" }]), Json.PiecePullResponse)
            .Should().Be("""{"state":"continue","pieces":[{"pID":"p","pieceRange":"0-3","pieceMD5":"x:4"}]}""");
    }

    [Fact]
    public void Deserialize_PreheatWithUppercaseType_IsCaseInsensitive()
    {
        var request = JsonSerializer.Deserialize("""{"TYPE":"image","URL":"http://r/v2/a/manifests/1"}""", Json.PreheatCreateRequest)!;

        request.Type.Should().Be(PreheatType.Image);
        request.Url.Should().Be("http://r/v2/a/manifests/1");
    }

    [Fact]
    public void Serialize_PreheatTask_UsesGoFieldNames()
    {
        var task = new PreheatTask { Id = "i", Url = "u", Type = PreheatType.File, Status = PreheatStatus.Success, StartTime = 1, FinishTime = 2, Children = ["c"] };

        JsonSerializer.Serialize(task, Json.PreheatTask)
            .Should().Be("""{"ID":"i","URL":"u","Type":"file","Children":["c"],"Status":"SUCCESS","StartTime":1,"FinishTime":2}""");
    }

    [Theory]
    [InlineData(CdnStatus.SourceError, "SOURCE_ERROR")]
    [InlineData(PieceErrorType.FileMd5NotMatch, "FILE_MD5_NOT_MATCH")]
    [InlineData(PieceResult.SemiSuccess, "SEMISUC")]
    [InlineData(PiecePullStatus.Started, "STARTED")]
    [InlineData(CdnSource.Source, "source")]
    public void ToWire_Enum_ReturnsSwaggerValue(Enum value, string expected)
    {
        var wire = value switch
        {
            CdnStatus v => DragonflyJson.ToWire(v),
            PieceErrorType v => DragonflyJson.ToWire(v),
            PieceResult v => DragonflyJson.ToWire(v),
            PiecePullStatus v => DragonflyJson.ToWire(v),
            CdnSource v => DragonflyJson.ToWire(v),
            _ => throw new ArgumentOutOfRangeException(nameof(value)),
        };

        wire.Should().Be(expected);
    }

    [Fact]
    public void TryParseWire_KnownAndUnknown_ReportsResult()
    {
        DragonflyJson.TryParseWire<PiecePullStatus>("running", out var status).Should().BeTrue();
        status.Should().Be(PiecePullStatus.Running);
        DragonflyJson.TryParseWire<PiecePullStatus>("nope", out _).Should().BeFalse();
    }

    [Fact]
    public void Apply_AspNetStyleOptions_ReadsDfgetCasing()
    {
        var options = DragonflyJson.Apply(new JsonSerializerOptions(JsonSerializerDefaults.Web));

        var request = JsonSerializer.Deserialize<TaskRegisterRequest>("""{"cid":"c","rawUrl":"u"}""", options)!;

        request.Cid.Should().Be("c");
        JsonSerializer.Serialize(request, options).Should().Be("""{"rawURL":"u","cID":"c"}""");
    }
}
