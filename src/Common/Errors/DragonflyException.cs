using System.Text.Json;

namespace Dragonfly.Common.Errors;

/// <summary>
/// A real fault (not a normal scheduling outcome) carrying one of the original's internal codes. Its
/// <see cref="WireMessage"/> embeds the code the way the original does: <c>context: {"Code":2,"Msg":"invalid value"}</c>.
/// </summary>
public sealed class DragonflyException : Exception
{
    public DragonflyException(ErrorCode code, string? detail = null, Exception? inner = null)
        : base(detail is null ? code.DefaultMessage() : $"{detail}: {code.DefaultMessage()}", inner)
    {
        Code = code;
        Detail = detail;
    }

    public ErrorCode Code { get; }

    public string? Detail { get; }

    /// <summary>The original's message shape: <c>&lt;detail&gt;: {"Code":N,"Msg":"..."}</c>.</summary>
    public string WireMessage
    {
        get
        {
            var inner = $"{{\"Code\":{(int)Code},\"Msg\":{JsonSerializer.Serialize(Code.DefaultMessage(), ErrorJsonContext.Default.String)}}}";
            return Detail is null ? inner : $"{Detail}: {inner}";
        }
    }

    public static DragonflyException NotFound(string what) => new(ErrorCode.DataNotFound, what);

    public static DragonflyException Invalid(string what) => new(ErrorCode.InvalidValue, what);
}
