using System.Text.Json;
using Dragonfly.Supernode.Api;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>Hostile form-urlencoded registry bodies (the legacy <c>POST /peer/registry</c>): a request or a
/// <see cref="JsonException"/> (the API's 400/legacy error), never another exception.</summary>
[Trait("Category", "Fuzz")]
public sealed class RequestBodiesFuzzTests
{
    private static readonly string[] Valid =
    [
        "rawUrl=http%3A%2F%2Fo%2Fa&cid=127.0.0.1-1-1.000&path=%2Fpeer%2Ffile%2Fa&port=15001&headers=a%3Ab&headers=c%3Ad&dfdaemon=true&rootCAs=YWJj",
        "cid=x&CID=y&Cid=z&port=1&PORT=2&fileLength=9223372036854775807&asSeed=false",
    ];

    private static readonly string[] Tokens = ["=", "&", "%", "%2", "%zz", "+", "port", "fileLength", "rootCAs", "headers", "dfdaemon", "insecure", "asSeed", "cid", "CID", "true", "True", "1", "YWJj", "YW=", "==", ";"];

    [Fact]
    public Task ParseRegisterForm_HostileBodies_ARequestOrAJsonException() => Fuzzer.RunAsync(10_000, c =>
    {
        var body = FuzzText.Hostile(c.Random, Valid, Tokens, maxLength: 2000);
        c.SetInput(body);
        try
        {
            RequestBodies.ParseRegisterForm(body).Should().NotBeNull();
        }
        catch (JsonException)
        {
        }
    });
}
