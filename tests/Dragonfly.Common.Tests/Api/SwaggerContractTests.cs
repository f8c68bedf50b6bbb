using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Models;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace Dragonfly.Common.Tests.Api;

/// <summary>Keeps apis/swagger.yml valid and in step with the hand-written DTOs of Dragonfly.Common.Api.Models.</summary>
public sealed class SwaggerContractTests
{
    private static readonly Lazy<string> SwaggerJson = new(() =>
        YamlJson.Convert(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "swagger.yml"))));

    private static ReadResult Parse() => OpenApiDocument.Parse(SwaggerJson.Value, "json", new OpenApiReaderSettings());

    private static JsonObject Definitions() => (JsonObject)JsonNode.Parse(SwaggerJson.Value)!["definitions"]!;

    private static readonly Type[] ModelTypes = typeof(ResultInfo).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(ResultInfo).Namespace && t.IsPublic && !t.IsGenericTypeDefinition)
        .Where(t => !typeof(JsonConverter).IsAssignableFrom(t))
        .ToArray();

    [Fact]
    public void Parse_SwaggerYml_HasNoErrors()
    {
        var result = Parse();

        result.Diagnostic!.Errors.Should().BeEmpty();
        result.Diagnostic.SpecificationVersion.Should().Be(OpenApiSpecVersion.OpenApi2_0);
        result.Document.Should().NotBeNull();
    }

    [Theory]
    [InlineData("/_ping", "GET", "Ping")]
    [InlineData("/version", "GET", "GetVersion")]
    [InlineData("/metrics", "GET", "GetMetrics")]
    [InlineData("/", "GET", "ListLegacyRoutes")]
    [InlineData("/api/v1/", "GET", "ListV1Routes")]
    [InlineData("/api/v1/peers", "POST", "CreatePeer")]
    [InlineData("/api/v1/peers", "GET", "ListPeers")]
    [InlineData("/api/v1/peers/{id}", "GET", "GetPeer")]
    [InlineData("/api/v1/peers/{id}", "DELETE", "DeletePeer")]
    [InlineData("/api/v1/tasks", "POST", "CreateTask")]
    [InlineData("/api/v1/tasks/{id}", "GET", "GetTask")]
    [InlineData("/api/v1/tasks/{id}", "PUT", "UpdateTask")]
    [InlineData("/api/v1/tasks/{id}", "DELETE", "DeleteTask")]
    [InlineData("/api/v1/tasks/{id}/swarm", "GET", "GetTaskSwarm")]
    [InlineData("/api/v1/tasks", "GET", "ListTasks")]
    [InlineData("/swarm", "GET", "GetSwarmPage")]
    [InlineData("/api/v1/tasks/{id}/pieces", "GET", "PullPieceTasks")]
    [InlineData("/api/v1/tasks/{id}/pieces/{pieceRange}", "PUT", "UpdatePiece")]
    [InlineData("/api/v1/tasks/{id}/pieces/{pieceRange}/error", "POST", "ReportPieceError")]
    [InlineData("/api/v1/tasks/{id}/pieces/{pieceRange}/error", "GET", "ReportPieceErrorByGet")]
    [InlineData("/api/v1/preheats", "POST", "CreatePreheat")]
    [InlineData("/api/v1/preheats", "GET", "ListPreheats")]
    [InlineData("/api/v1/preheats/{id}", "GET", "GetPreheat")]
    [InlineData("/api/v1/preheats/{id}", "DELETE", "DeletePreheat")]
    [InlineData("/peer/registry", "POST", "RegisterLegacy")]
    [InlineData("/peer/task", "GET", "PullPieceTasksLegacy")]
    [InlineData("/peer/piece/suc", "GET", "ReportPieceSuccessLegacy")]
    [InlineData("/peer/service/down", "GET", "ReportServiceDownLegacy")]
    [InlineData("/peer/piece/error", "GET", "ReportPieceErrorLegacy")]
    [InlineData("/task/metrics", "POST", "ReportTaskMetrics")]
    [InlineData("/peer/heartbeat", "POST", "HeartbeatLegacy")]
    [InlineData("/api/v1/peer/heartbeat", "POST", "Heartbeat")]
    [InlineData("/peer/network", "POST", "FetchNetworkInfoLegacy")]
    [InlineData("/api/v1/peer/network", "POST", "FetchNetworkInfo")]
    public void Paths_ExpectedRoute_IsDocumentedWithOperationId(string path, string method, string operationId)
    {
        var document = Parse().Document!;

        document.Paths.Should().ContainKey(path);
        var operations = document.Paths[path].Operations!;
        operations.Should().ContainKey(new HttpMethod(method));
        operations[new HttpMethod(method)].OperationId.Should().Be(operationId);
    }

    [Fact]
    public void Paths_AllOperations_HaveUniqueOperationIds()
    {
        var ids = Parse().Document!.Paths.Values
            .SelectMany(p => p.Operations!.Values)
            .Select(o => o.OperationId)
            .ToList();

        ids.Should().OnlyHaveUniqueItems().And.NotContainNulls();
        ids.Should().HaveCount(34);
    }

    [Theory]
    [InlineData("/api/v1/peers", "POST", "201")]
    [InlineData("/api/v1/tasks", "POST", "201")]
    [InlineData("/api/v1/preheats", "POST", "201")]
    [InlineData("/api/v1/peers/{id}", "DELETE", "204")]
    [InlineData("/api/v1/tasks/{id}", "DELETE", "204")]
    [InlineData("/api/v1/preheats/{id}", "DELETE", "204")]
    [InlineData("/api/v1/peers/{id}", "GET", "404")]
    [InlineData("/api/v1/tasks/{id}", "GET", "404")]
    [InlineData("/api/v1/tasks/{id}/swarm", "GET", "404")]
    [InlineData("/api/v1/preheats/{id}", "GET", "404")]
    [InlineData("/api/v1/tasks/{id}/pieces", "GET", "200")]
    [InlineData("/peer/registry", "POST", "500")]
    public void Responses_V1Route_DocumentsRestStatus(string path, string method, string status)
    {
        var operation = Parse().Document!.Paths[path].Operations![new HttpMethod(method)];

        operation.Responses.Should().ContainKey(status);
    }

    [Fact]
    public void PullPieceTasks_Parameters_AreQueryParameters()
    {
        var operation = Parse().Document!.Paths["/api/v1/tasks/{id}/pieces"].Operations![HttpMethod.Get];

        operation.Parameters!.Where(p => p.In == ParameterLocation.Query).Select(p => p.Name)
            .Should().BeEquivalentTo("clientID", "dstPID", "dfgetTaskStatus", "pieceResult", "pieceRange", "waitMs");
        operation.RequestBody.Should().BeNull();
    }

    [Fact]
    public void Definitions_EveryObjectDefinition_HasDtoWithSameWireNames()
    {
        foreach (var (name, node) in Definitions())
        {
            if (node!["type"]!.GetValue<string>() != "object")
            {
                continue;
            }

            var type = ModelTypes.SingleOrDefault(t => t.Name == name);
            type.Should().NotBeNull($"definition {name} needs a DTO Dragonfly.Common.Api.Models.{name}");
            var expected = ((JsonObject?)node["properties"])?.Select(p => p.Key).ToArray() ?? [];

            WireNames(type!).Should().BeEquivalentTo(expected, $"DTO {name} must carry exactly the wire names of the definition");
        }
    }

    [Fact]
    public void Definitions_EveryEnumDefinition_HasEnumWithSameWireValues()
    {
        foreach (var (name, node) in Definitions())
        {
            if (node!["enum"] is not JsonArray values)
            {
                continue;
            }

            var type = ModelTypes.SingleOrDefault(t => t.Name == name);
            type.Should().NotBeNull($"enum definition {name} needs an enum Dragonfly.Common.Api.Models.{name}");
            type!.IsEnum.Should().BeTrue();
            var wire = type.GetFields(BindingFlags.Public | BindingFlags.Static)
                .Select(f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name);

            wire.Should().Equal(values.Select(v => v!.GetValue<string>()), $"enum {name} must match the swagger");
        }
    }

    [Fact]
    public void Models_EveryDto_IsDefinedInSwagger()
    {
        var definitions = Definitions();

        foreach (var type in ModelTypes)
        {
            definitions.ContainsKey(type.Name).Should().BeTrue($"{type.Name} is a wire DTO and must be documented in apis/swagger.yml");
        }
    }

    [Fact]
    public void Models_EveryProperty_HasExplicitJsonPropertyName()
    {
        foreach (var type in ModelTypes.Where(t => !t.IsEnum))
        {
            type.IsSealed.Should().BeTrue($"{type.Name} should be sealed");
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                property.GetCustomAttribute<JsonPropertyNameAttribute>().Should()
                    .NotBeNull($"{type.Name}.{property.Name} needs [JsonPropertyName]");
            }
        }
    }

    [Fact]
    public void JsonContext_EveryDto_IsRegistered()
    {
        foreach (var type in ModelTypes)
        {
            DragonflyJsonContext.Default.GetTypeInfo(type).Should().NotBeNull($"{type.Name} must be in DragonflyJsonContext");
        }
    }

    private static string[] WireNames(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? p.Name)
        .ToArray();
}
