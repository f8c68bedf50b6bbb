using System.Text.Json.Serialization;

namespace Dragonfly.Common.Errors;

[JsonSerializable(typeof(string))]
internal sealed partial class ErrorJsonContext : JsonSerializerContext;
