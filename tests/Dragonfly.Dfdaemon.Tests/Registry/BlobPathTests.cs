using Dragonfly.Dfdaemon.Registry;

namespace Dragonfly.Dfdaemon.Tests.Registry;

public class BlobPathTests
{
    private const string Digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("/v2/library/busybox/blobs/sha256:" + Digest, true)]
    [InlineData("/v2/a/b/c/blobs/sha256:" + Digest, true)]
    [InlineData("/v2/x/blobs/sha256", true)]
    [InlineData("/v2/library/busybox/manifests/latest", false)]
    [InlineData("/v2/library/busybox/manifests/sha256:" + Digest, false)]
    [InlineData("/v2/", false)]
    [InlineData("/blobs/sha256:" + Digest, false)]
    [InlineData("/v2/x/blobs/uploads/", false)]
    public void IsBlob_Path_MatchesOriginalRegex(string path, bool expected) => BlobPath.IsBlob(path).Should().Be(expected);

    [Fact]
    public void Sha256Of_BlobPath_ReturnsLowerHex()
    {
        BlobPath.Sha256Of("/v2/x/blobs/sha256:" + Digest.ToUpperInvariant()).Should().Be(Digest);
        BlobPath.Sha256Of("/v2/x/blobs/sha256:abc").Should().BeNull();
        BlobPath.Sha256Of("/v2/x/blobs/sha256:" + Digest + "00").Should().BeNull();
    }
}
