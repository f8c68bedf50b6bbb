using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Dragonfly.TestCommon.Fuzzing;

/// <summary>
/// What each server may answer to hostile requests (<see cref="ServerFuzz.Judge"/>), the same for the in-process hosts
/// and the published programs, and the secrets planted where no server may read.
/// </summary>
public static partial class ServerJudges
{
    /// <summary>The download port: its documented statuses; a body only for the CDN file's own path.</summary>
    public static Func<byte[], RawAnswer, string?> DownloadPort(string cdnPath) => (request, answer) =>
        answer.Status is not (200 or 206 or 400 or 404 or 405 or 416 or 431 or 505) ? $"status {answer.Status} is none the download port documents"
        : answer.Status is 200 or 206 && Target(request) != cdnPath ? "a body for a path other than the CDN file's"
        : null;

    /// <summary>
    /// The uploader: its documented statuses (PROTOCOL §3.4, plus Kestrel's for malformed requests); 500 only for an unknown
    /// task file (the original's status); a piece only of the task it serves.
    /// </summary>
    public static Func<byte[], RawAnswer, string?> Uploader(string taskFileName) => (request, answer) =>
        answer.Status is 500 ? (Encoding.UTF8.GetString(answer.Body).StartsWith("unknown task file", StringComparison.Ordinal) ? null : $"500: {Text(answer)}")
        : answer.Status is not (200 or 206 or 400 or 403 or 404 or 405 or 408 or 414 or 416 or 431 or 503 or 505) ? $"status {answer.Status} is none the uploader documents ({Text(answer)})"
        : answer.Status is 206 && !Uri.UnescapeDataString(Target(request)).EndsWith("/" + taskFileName, StringComparison.Ordinal) ? "a piece of a task it was never asked for"
        : null;

    /// <summary>
    /// The supernode's API port: no 5xx, except 505 for an HTTP version it does not speak and the legacy routes' 500 with
    /// the original's error envelope (<c>{"code":..,"message":..}</c>, PROTOCOL §1.3); a v1 route answers bad input with 4xx.
    /// </summary>
    public static string? SupernodeApi(byte[] request, RawAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (answer.Status is < 500 or 505)
        {
            return null;
        }

        var v1 = V1Path().IsMatch(Target(request));
        if (answer.Status == 500 && !v1 && IsErrorEnvelope(answer.Body))
        {
            return null;
        }

        return $"{answer.Status} on {(v1 ? "a v1 route" : "the legacy surface")} ({Text(answer)})";
    }

    /// <summary>dfdaemon: no 5xx of its own; 502 (an upstream it could not reach or that broke the protocol) and 505.</summary>
    public static string? Dfdaemon(byte[] request, RawAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return answer.Status is >= 500 and not (502 or 505) ? $"{answer.Status} ({Text(answer)})" : null;
    }

    /// <summary>A file of unique content in <paramref name="dir"/> (beside what a server serves); its content, and the
    /// start of the system's passwd file.</summary>
    public static byte[][] PlantSecrets(string dir)
    {
        var secret = Encoding.ASCII.GetBytes($"SECRET-{Guid.NewGuid():N}");
        File.WriteAllBytes(Path.Combine(dir, "secret.txt"), secret);
        return [secret, "root:x:0:0"u8.ToArray()];
    }

    /// <summary>The path of a request's target (query dropped; an absolute URI's path), or empty.</summary>
    public static string Target(byte[] request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var line = Encoding.Latin1.GetString(request).TrimStart('\r', '\n').Split("\r\n")[0].Split(' ');
        var target = line.Length > 1 ? line[1] : string.Empty;
        return Uri.TryCreate(target, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https" ? absolute.AbsolutePath : target.Split('?')[0];
    }

    private static bool IsErrorEnvelope(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number
                && json.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Text(RawAnswer answer) => Encoding.UTF8.GetString(answer.Body.AsSpan(0, Math.Min(300, answer.Body.Length)));

    [GeneratedRegex("^(/v[0-9.]+)?(/api/v1(/|$)|/(peers|tasks|preheats)(/|$))", RegexOptions.IgnoreCase)]
    private static partial Regex V1Path();
}
