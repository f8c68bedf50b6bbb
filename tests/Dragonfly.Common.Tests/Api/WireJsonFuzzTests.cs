using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Models;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Common.Tests.Api;

/// <summary>
/// Hostile JSON (<see cref="JsonFuzz"/>) for every wire DTO of <see cref="DragonflyJsonContext"/>, as the supernode reads
/// requests and dfget reads replies: a value or a <see cref="JsonException"/> (the API's 400), never another exception; a
/// value that was read into a typed DTO can be written again.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class WireJsonFuzzTests
{
    private static readonly JsonTypeInfo[] Types =
    [
        .. typeof(DragonflyJsonContext).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => typeof(JsonTypeInfo).IsAssignableFrom(p.PropertyType))
            .Select(p => (JsonTypeInfo)p.GetValue(DragonflyJsonContext.Default)!),
    ];

    /// <summary>
    /// Read but never written back: a JsonElement (the envelope's untyped data) keeps the raw text, escapes unchecked until
    /// read as a typed value; a double (a dfget report's duration) may read as infinity, which the supernode refuses.
    /// </summary>
    private static readonly HashSet<Type> NotWrittenBack = [typeof(JsonElement), typeof(ResultInfo), typeof(double), typeof(TaskMetricsRequest)];

    [Fact]
    public Task Deserialize_HostileDocuments_AValueOrAJsonException() => Fuzzer.RunAsync(4000, c =>
    {
        var type = c.Pick(Types);
        var json = JsonFuzz.Document(c.Random);
        c.SetInput($"{type.Type.Name}: {json}");
        object? value;
        try
        {
            value = JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException)
        {
            return;
        }

        if (!NotWrittenBack.Contains(Nullable.GetUnderlyingType(type.Type) ?? type.Type))
        {
            _ = JsonSerializer.Serialize(value, type);
        }
    });
}
