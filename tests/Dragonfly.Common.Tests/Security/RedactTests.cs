using Dragonfly.Common.Security;

namespace Dragonfly.Common.Tests.Security;

public class RedactTests
{
    [Theory]
    [InlineData("Authorization")]
    [InlineData("proxy-authorization")]
    [InlineData("Cookie")]
    [InlineData("Set-Cookie")]
    [InlineData("X-Api-Key")]
    [InlineData("X-Auth-Token")]
    [InlineData("X-Client-Secret")]
    public void HeaderValue_Credential_IsHidden(string name) =>
        Redact.HeaderValue(name, "Bearer s3cret").Should().Be(Redact.Hidden);

    [Theory]
    [InlineData("Accept")]
    [InlineData("Range")]
    [InlineData("User-Agent")]
    [InlineData("X-Trace-Id")]
    public void HeaderValue_Ordinary_IsShown(string name) =>
        Redact.HeaderValue(name, "value 1").Should().Be("value 1");

    [Fact]
    public void Headers_HidesOnlyTheCredentials()
    {
        var shown = Redact.Headers(new Dictionary<string, string> { ["Authorization"] = "Basic dXNlcjpwdw==", ["Accept"] = "*/*" });

        shown.Should().BeEquivalentTo(new Dictionary<string, string> { ["Authorization"] = Redact.Hidden, ["Accept"] = "*/*" });
    }

    [Fact]
    public void Headers_NamesThatDifferOnlyInCase_StayTwoEntries()
    {
        var shown = Redact.Headers(new Dictionary<string, string>(StringComparer.Ordinal) { ["Accept"] = "a", ["accept"] = "b", ["authorization"] = "x" });

        shown.Should().HaveCount(3);
        shown["accept"].Should().Be("b");
        shown["authorization"].Should().Be(Redact.Hidden);
    }

    [Theory]
    [InlineData("http://user:pw@origin/a.bin?x=1", "http://<redacted>@origin/a.bin?x=1")]
    [InlineData("https://token@registry/v2/", "https://<redacted>@registry/v2/")]
    [InlineData("http://origin/a@b.bin", "http://origin/a@b.bin")]
    [InlineData("http://u:p@ss@origin/a.bin", "http://<redacted>@origin/a.bin")]
    [InlineData("http://origin?mail=a@b", "http://origin?mail=a@b")]
    [InlineData("--registry https://u:pw@r1 https://u:pw@r2/x", "--registry https://<redacted>@r1 https://<redacted>@r2/x")]
    [InlineData("http://origin/a.bin", "http://origin/a.bin")]
    public void Argument_UserInfoInAUrl_IsHidden(string url, string expected) =>
        Redact.Argument(url).Should().Be(expected);
}
