using Dragonfly.Supernode.Admin;
using Dragonfly.Supernode.Api;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using YamlDotNet.RepresentationModel;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>
/// apis/swagger.yml is the source of truth: every documented path + method is mapped (at every mount point of §1.1), and
/// nothing undocumented is. The download port is not routed here: its own connection handler serves it.
/// </summary>
public sealed class RouteContractTests(SupernodeApiFactory factory) : IClassFixture<SupernodeApiFactory>
{
    private const string VersionPrefix = SupernodeRoutes.VersionPrefix;

    [Fact]
    public void MappedRoutes_EqualSwaggerPaths()
    {
        var documented = SwaggerRoutes();
        var mapped = MappedPatterns();

        var normalized = mapped.Select(m => (m.Method, Path: Normalize(m.Path, documented))).ToHashSet();

        normalized.Should().BeEquivalentTo(documented, "every endpoint must be documented and every documented route mapped");
    }

    [Fact]
    public void EveryRoute_MountedAtAllPrefixes()
    {
        var mapped = MappedPatterns().ToHashSet();
        foreach (var (method, path) in SwaggerRoutes())
        {
            if (path.StartsWith(SupernodeRoutes.V1Prefix, StringComparison.Ordinal))
            {
                var relative = path[SupernodeRoutes.V1Prefix.Length..];
                mapped.Should().Contain((method, path));
                mapped.Should().Contain((method, VersionPrefix + path));
                var legacyTwin = SwaggerRoutes().Contains((method, relative));
                if (relative != "/" && !legacyTwin)
                {
                    mapped.Should().Contain((method, relative), $"v1 {method} {path} is also served at the root");
                    mapped.Should().Contain((method, VersionPrefix + relative));
                }
            }
            else
            {
                mapped.Should().Contain((method, path));
                mapped.Should().Contain((method, VersionPrefix + (path == "/" ? "/" : path)));
            }
        }
    }

    [Fact]
    public void Swagger_ListsNoRouteTheTableLacks()
    {
        var table = SupernodeRoutes.All.Select(r => (r.Method, r.DocumentedPath)).ToHashSet();
        table.Should().BeEquivalentTo(SwaggerRoutes());
    }

    /// <summary>apis/swagger.yml marks exactly the management operations with the <c>adminToken</c> security requirement.</summary>
    [Fact]
    public void Swagger_AdminTokenRequirement_OnExactlyTheManagementRoutes()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "swagger.yml"))));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        root.Children.Should().ContainKey(new YamlScalarNode("securityDefinitions"));
        root.Children.Should().NotContainKey(new YamlScalarNode("security"), "no requirement applies to every operation");
        var secured = new HashSet<(string, string)>();
        foreach (var (path, item) in (YamlMappingNode)root.Children[new YamlScalarNode("paths")])
        {
            foreach (var (method, operation) in (YamlMappingNode)item)
            {
                if (operation is YamlMappingNode op &&
                    op.Children.TryGetValue(new YamlScalarNode("security"), out var security) &&
                    security.ToString().Contains("adminToken", StringComparison.Ordinal))
                {
                    secured.Add((method.ToString().ToUpperInvariant(), path.ToString()));
                }
            }
        }

        secured.Should().BeEquivalentTo(SupernodeRoutes.All.Where(r => r.Access == RouteAccess.Manage).Select(r => (r.Method, r.DocumentedPath)));
    }

    private static string Normalize(string pattern, HashSet<(string Method, string Path)> documented)
    {
        var path = pattern.StartsWith(VersionPrefix, StringComparison.Ordinal) ? pattern[VersionPrefix.Length..] : pattern;
        if (path.Length == 0)
        {
            path = "/";
        }

        return documented.Any(d => d.Path == path) ? path : SupernodeRoutes.V1Prefix + path;
    }

    private List<(string Method, string Path)> MappedPatterns()
    {
        factory.CreateClient().Dispose();
        var source = factory.Services.GetRequiredService<EndpointDataSource>();
        var result = new List<(string, string)>();
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"];
            foreach (var method in methods)
            {
                result.Add((method, endpoint.RoutePattern.RawText!));
            }
        }

        return result;
    }

    internal static HashSet<(string Method, string Path)> SwaggerRoutes()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "swagger.yml"))));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var paths = (YamlMappingNode)root.Children[new YamlScalarNode("paths")];
        var set = new HashSet<(string, string)>();
        foreach (var (pathNode, item) in paths.Children)
        {
            foreach (var (methodNode, _) in ((YamlMappingNode)item).Children)
            {
                var method = ((YamlScalarNode)methodNode).Value!;
                if (method is "get" or "post" or "put" or "delete" or "patch" or "head")
                {
                    set.Add((method.ToUpperInvariant(), ((YamlScalarNode)pathNode).Value!));
                }
            }
        }

        return set;
    }
}
