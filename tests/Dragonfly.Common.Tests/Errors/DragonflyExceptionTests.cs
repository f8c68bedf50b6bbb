using Dragonfly.Common.Errors;

namespace Dragonfly.Common.Tests.Errors;

public class DragonflyExceptionTests
{
    [Fact]
    public void WireMessage_EmbedsCodeLikeOriginal()
    {
        var e = new DragonflyException(ErrorCode.InvalidValue, "raw url: notaurl");
        e.WireMessage.Should().Be("raw url: notaurl: {\"Code\":2,\"Msg\":\"invalid value\"}");
        e.Code.Should().Be(ErrorCode.InvalidValue);
    }

    [Fact]
    public void WireMessage_WithoutDetail_IsJustTheCode()
    {
        DragonflyException.NotFound("x").Code.Should().Be(ErrorCode.DataNotFound);
        new DragonflyException(ErrorCode.DataNotFound).WireMessage.Should().Be("{\"Code\":0,\"Msg\":\"data not found\"}");
    }
}
