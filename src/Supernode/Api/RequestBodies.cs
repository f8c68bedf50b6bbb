using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Dragonfly.Common.Api;
using Dragonfly.Common.Api.Models;
using Dragonfly.Supernode.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Dragonfly.Supernode.Api;

/// <summary>
/// Reads API request bodies with a size cap (<see cref="SupernodeOptions.MaxRequestBodySize"/>; larger → 413) and parses
/// them as wire DTOs: JSON with case-insensitive names, or for the legacy registry also <c>x-www-form-urlencoded</c>.
/// </summary>
internal static class RequestBodies
{
    /// <summary>Reads the whole body, at most <c>MaxRequestBodySize</c> bytes; empty when there is none.</summary>
    public static async Task<byte[]> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var limit = request.HttpContext.RequestServices.GetRequiredService<IOptions<SupernodeOptions>>().Value.MaxRequestBodySize;
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var collected = new MemoryStream();
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return collected.ToArray();
                }

                if (collected.Length + read > limit)
                {
                    throw TooLarge(limit);
                }

                await collected.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads and deserializes a JSON body; null when the body is empty or JSON <c>null</c>.</summary>
    /// <exception cref="JsonException">Malformed JSON or a value of the wrong type.</exception>
    public static async Task<T?> ReadJsonAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        var bytes = await ReadAsync(request, cancellationToken).ConfigureAwait(false);
        return IsBlank(bytes) ? default : JsonSerializer.Deserialize(bytes, typeInfo);
    }

    /// <summary>
    /// The legacy registry body: JSON (names case-insensitive) or a form with the same names (also case-insensitive;
    /// <c>headers</c> and <c>rootCAs</c> may repeat).
    /// </summary>
    public static async Task<TaskRegisterRequest?> ReadRegisterAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var bytes = await ReadAsync(request, cancellationToken).ConfigureAwait(false);
        if (IsBlank(bytes))
        {
            return null;
        }

        // A form content type with a JSON body is what `curl -d '{...}'` sends: read it as JSON.
        return request.HasFormContentType && bytes.AsSpan().TrimStart(" \t\r\n"u8) is not [(byte)'{', ..]
            ? ParseRegisterForm(Encoding.UTF8.GetString(bytes))
            : JsonSerializer.Deserialize(bytes, DragonflyJsonContext.Default.TaskRegisterRequest);
    }

    internal static TaskRegisterRequest ParseRegisterForm(string body)
    {
        var form = new Dictionary<string, StringValues>(QueryHelpers.ParseQuery(body), StringComparer.OrdinalIgnoreCase);
        string? S(string key) => form.TryGetValue(key, out var v) && !StringValues.IsNullOrEmpty(v) ? v.ToString() : null;
        int? I(string key) => S(key) is { } s
            ? int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new JsonException($"form field {key}: '{s}' is not an integer")
            : null;
        long? L(string key) => S(key) is { } s
            ? long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new JsonException($"form field {key}: '{s}' is not an integer")
            : null;
        bool? B(string key) => S(key) is { } s
            ? bool.TryParse(s, out var b) ? b : throw new JsonException($"form field {key}: '{s}' is not true or false")
            : null;
        IReadOnlyList<string>? Many(string key) => form.TryGetValue(key, out var v) && v.Count > 0 ? v.Where(x => x is not null).Select(x => x!).ToList() : null;

        return new TaskRegisterRequest
        {
            SuperNodeIp = S("superNodeIp"),
            RawUrl = S("rawUrl"),
            TaskUrl = S("taskUrl"),
            Cid = S("cid"),
            Ip = S("ip"),
            HostName = S("hostName"),
            Port = I("port"),
            Path = S("path"),
            Version = S("version"),
            Md5 = S("md5"),
            Identifier = S("identifier"),
            CallSystem = S("callSystem"),
            Headers = Many("headers"),
            Dfdaemon = B("dfdaemon"),
            Insecure = B("insecure"),
            RootCAs = Many("rootCAs")?.Select(DecodeBase64).ToList(),
            TaskId = S("taskId"),
            FileLength = L("fileLength"),
            AsSeed = B("asSeed"),
            Pattern = S("pattern"),
        };
    }

    private static byte[] DecodeBase64(string value)
    {
        try
        {
            return Convert.FromBase64String(value);
        }
        catch (FormatException e)
        {
            throw new JsonException("form field rootCAs: not base64", e);
        }
    }

    private static bool IsBlank(byte[] bytes) => bytes.AsSpan().Trim(" \t\r\n"u8).IsEmpty;

    private static BadHttpRequestException TooLarge(long limit) =>
        new($"request body too large: the limit is {limit} bytes", StatusCodes.Status413PayloadTooLarge);
}
