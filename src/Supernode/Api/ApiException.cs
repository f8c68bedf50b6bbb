namespace Dragonfly.Supernode.Api;

/// <summary>
/// An error that keeps its HTTP status (the original's explicit HTTP-error type, §1.3): preheat validation 400, unknown
/// id 404, duplicate finished preheat 208, oversize body 413. <see cref="Code"/> is the body's <c>code</c> (the HTTP status
/// unless a legacy code is carried, e.g. 607).
/// </summary>
public sealed class ApiException : Exception
{
    public ApiException(int statusCode, string message, int? code = null, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = statusCode;
        Code = code ?? statusCode;
    }

    public int StatusCode { get; }

    public int Code { get; }

    public static ApiException BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    public static ApiException NotFound(string message) => new(StatusCodes.Status404NotFound, message);
}
