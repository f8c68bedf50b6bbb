using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Dragonfly.TestCommon.Fuzzing;

/// <summary>
/// Hostile JSON documents for the wire DTOs: objects of the protocol's field names with values of the wrong type, numbers
/// beyond every integer and float, lone surrogates and control escapes, deep nesting, repeated names, long strings, and
/// text that is almost JSON (truncated, trailing commas, comments, a byte-order mark, NaN).
/// </summary>
public static class JsonFuzz
{
    /// <summary>Field names of the wire DTOs (swagger names and the original dfget's spellings).</summary>
    public static readonly string[] Fields =
    [
        "cID", "cid", "rawURL", "rawUrl", "taskURL", "taskUrl", "md5", "identifier", "path", "headers", "dfdaemon", "callSystem", "filter", "taskId",
        "fileLength", "peerID", "supernodeIP", "superNodeIp", "IP", "ip", "hostName", "port", "version", "clientID", "dstPID", "dstPid", "pieceStatus",
        "srcCid", "errorType", "realMd5", "expectedMd5", "range", "type", "url", "pieceRange", "peerPattern", "pattern", "asSeed", "insecure", "rootCAs",
        "dfgetTaskStatus", "pieceResult", "duration", "success", "backsourceReason", "ID", "code", "msg", "data", "pieceSize", "cdnSource", "status",
    ];

    private static readonly string[] Scalars =
    [
        "null", "true", "false", "0", "-1", "1.5", "1e308", "1e309", "-1e309", "1e-400", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "123456789012345678901234567890", "2147483648", "65536", "15300", "0.0000000000000000000000001", "-0", "1E+2",
        "\"\"", "\" \"", "\"x\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\u001b[2J\"", "\"a\\nb\"", "\"../../etc/passwd\"", "\"http://127.0.0.1:1/x\"",
        "\"file:///etc/passwd\"", "\"SUCCESS\"", "\"FAILED\"", "\"RUNNING\"", "\"image\"", "\"file\"", "\"127.0.0.1\"", "\"999.1.1.1\"", "\"cdnnode:127.0.0.1~x\"",
        "\"0-4194303\"", "\"9-1\"", "\"-1\"", "\"1e3\"", "\"NaN\"", "\"\\u00e9\\u4e2d\"", "\"\\\\\"", "\"YWJj\"", "\"%00\"",
    ];

    /// <summary>A hostile document (as text).</summary>
    public static string Document(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return random.Next(14) switch
        {
            0 => string.Concat(Enumerable.Repeat("[", random.Next(60, 5000))) + string.Concat(Enumerable.Repeat("]", random.Next(0, 5000))),
            1 => "{\"a\":" + string.Concat(Enumerable.Repeat("{\"a\":", random.Next(60, 3000))) + "1" + new string('}', random.Next(0, 3000)),
            2 => Truncated(random, Object(random)),
            3 => "\ufeff" + Object(random),
            4 => Object(random).Replace("}", ",}", StringComparison.Ordinal),
            5 => "/* c */" + Object(random),
            6 => Scalars[random.Next(Scalars.Length)],
            7 => "[" + Object(random) + "]",
            8 => "{\"" + Fields[random.Next(Fields.Length)] + "\":\"" + new string('x', random.Next(10_000, 200_000)) + "\"}",
            9 => "NaN",
            10 => Encoding.UTF8.GetString(RequestMutations.Mutate(random, Encoding.UTF8.GetBytes(Object(random)))),
            _ => Object(random),
        };
    }

    /// <summary>An object of up to a dozen protocol fields (names repeat now and then) with hostile values.</summary>
    public static string Object(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var sb = new StringBuilder("{");
        for (var n = random.Next(0, 12); n > 0; n--)
        {
            if (sb.Length > 1)
            {
                sb.Append(',');
            }

            sb.Append(JsonSerializer.Serialize(random.Next(20) == 0 ? FuzzText.AnyString(random, 30) : Fields[random.Next(Fields.Length)])).Append(':').Append(Value(random, 3));
        }

        return sb.Append('}').ToString();
    }

    private static string Value(Random random, int depth) => random.Next(depth > 0 ? 10 : 7) switch
    {
        < 5 => Scalars[random.Next(Scalars.Length)],
        5 => JsonSerializer.Serialize(FuzzText.AnyString(random, 60)),
        6 => random.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture),
        7 => "[" + string.Join(',', Enumerable.Range(0, random.Next(0, 4)).Select(_ => Value(random, depth - 1))) + "]",
        _ => "{" + string.Join(',', Enumerable.Range(0, random.Next(0, 3)).Select(_ => $"{JsonSerializer.Serialize(Fields[random.Next(Fields.Length)])}:{Value(random, depth - 1)}")) + "}",
    };

    private static string Truncated(Random random, string json) => json[..random.Next(json.Length + 1)];
}
