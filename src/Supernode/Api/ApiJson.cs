using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Dragonfly.Common.Api;

namespace Dragonfly.Supernode.Api;

/// <summary>
/// The wire JSON settings of <see cref="DragonflyJsonContext"/> plus Go's escaping: quotes inside strings are written as
/// <c>\"</c>, not <c>\u0022</c> (error messages embed <c>{"Code":2,"Msg":"invalid value"}</c>). Immutable.
/// </summary>
internal static class ApiJson
{
    private static readonly JsonSerializerOptions Options = Create();

    public static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    public static IResult Json<T>(T value, int? statusCode = null) => TypedResults.Json(value, Info<T>(), statusCode: statusCode);

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(DragonflyJsonContext.Default.Options)
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly();
        return options;
    }
}
