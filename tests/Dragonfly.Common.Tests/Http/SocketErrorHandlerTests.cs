using Dragonfly.Common.Http;
using Dragonfly.TestCommon;

namespace Dragonfly.Common.Tests.Http;

public sealed class SocketErrorHandlerTests
{
    [Fact]
    public async Task SendAsync_ServerResetsEveryConnection_AlwaysAnHttpRequestException()
    {
        // Without the handler about one request in a few hundred fails with a bare SocketException (see ResettingServer).
        using var server = new ResettingServer();
        using var client = new HttpClient(new SocketErrorHandler(new SocketsHttpHandler { UseProxy = false }));

        for (var i = 0; i < 1500; i++)
        {
            var send = () => client.GetAsync(new Uri($"http://127.0.0.1:{server.Port}/x"));
            await send.Should().ThrowAsync<HttpRequestException>();
        }

        server.Accepted.Should().BeGreaterThanOrEqualTo(1500);
    }
}
