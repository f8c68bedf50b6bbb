using System.Text;
using Dragonfly.Supernode.Preheat;

namespace Dragonfly.Supernode.Tests.Preheat;

public sealed class ManifestParserTests
{
    private static readonly string A = "sha256:" + new string('a', 64);
    private static readonly string B = "sha256:" + new string('b', 64);

    [Fact]
    public void Parse_Schema1_FsLayersDistinct()
    {
        var content = ManifestParser.Parse(Encoding.UTF8.GetBytes($$"""{"schemaVersion":1,"fsLayers":[{"blobSum":"{{A}}"},{"blobSum":"{{B}}"},{"blobSum":"{{A}}"}]}"""));

        content.Layers.Should().Equal(A, B);
        content.ChildManifests.Should().BeEmpty();
    }

    [Fact]
    public void Parse_OciManifest_Layers()
    {
        var content = ManifestParser.Parse(Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[{"digest":"{{B}}"}]}"""));

        content.Layers.Should().Equal(B);
    }

    [Fact]
    public void Parse_ManifestListOrIndex_ChildManifests()
    {
        var content = ManifestParser.Parse(Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"manifests":[{"digest":"{{{A}}}","platform":{"os":"linux"}},{"digest":"{{{B}}}"}]}"""));

        content.ChildManifests.Should().Equal(A, B);
        content.Layers.Should().BeEmpty();
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"schemaVersion":2}""")]
    [InlineData("""{"layers":[{"digest":"../../etc/passwd"}]}""")]
    [InlineData("""{"layers":[{"size":1}]}""")]
    public void Parse_Invalid_FormatException(string json) =>
        FluentActions.Invoking(() => ManifestParser.Parse(Encoding.UTF8.GetBytes(json))).Should().Throw<FormatException>();

    [Fact]
    public void Parse_MoreThanMaxEntriesDistinct_FormatException()
    {
        var layers = string.Join(',', Enumerable.Range(0, ManifestParser.MaxEntries + 1).Select(i => $$"""{"digest":"sha256:{{i:x64}}"}"""));

        FluentActions.Invoking(() => ManifestParser.Parse(Encoding.UTF8.GetBytes($$"""{"layers":[{{layers}}]}""")))
            .Should().Throw<FormatException>().WithMessage("*more than 1000*");
    }

    [Fact]
    public void Parse_MaxEntriesWithManyRepeats_DistinctInOrder()
    {
        var distinct = Enumerable.Range(0, ManifestParser.MaxEntries).Select(i => $"sha256:{i:x64}").ToList();
        var layers = string.Join(',', Enumerable.Repeat(distinct, 20).SelectMany(d => d).Select(d => $$"""{"digest":"{{d}}"}"""));

        ManifestParser.Parse(Encoding.UTF8.GetBytes($$"""{"layers":[{{layers}}]}""")).Layers.Should().Equal(distinct);
    }

    [Fact]
    public void BearerChallenge_RegistryHeader_TokenUri()
    {
        BearerChallenge.TryParse("Bearer realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:library/busy:pull\"", out var challenge).Should().BeTrue();

        challenge.TokenUri().ToString().Should().Be("https://auth.example/token?service=registry.example&scope=repository%3Alibrary%2Fbusy%3Apull");
    }

    [Theory]
    [InlineData("Basic realm=\"x\"")]
    [InlineData("Bearer service=\"x\"")]
    [InlineData("Bearer realm=\"file:///etc/passwd\"")]
    public void BearerChallenge_NotUsable_False(string header) => BearerChallenge.TryParse(header, out _).Should().BeFalse();

    [Theory]
    [InlineData("https://reg.example/v2/library/busy/manifests/latest", "https", "reg.example", "library/busy", "latest")]
    [InlineData("http://127.0.0.1:5000/v2/a/b/c/manifests/sha256:abc", "http", "127.0.0.1:5000", "a/b/c", "sha256:abc")]
    public void ImageReference_ManifestUrl_Parsed(string url, string scheme, string host, string repo, string reference)
    {
        ImageReference.TryParse(url, out var image).Should().BeTrue();

        image.Should().Be(new ImageReference(scheme, host, repo, reference));
        image.BlobUrl(A).Should().Be($"{scheme}://{host}/v2/{repo}/blobs/{A}");
    }
}
