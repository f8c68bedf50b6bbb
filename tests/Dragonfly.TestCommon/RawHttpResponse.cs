using System.Globalization;
using System.Text;

namespace Dragonfly.TestCommon;

/// <summary>One HTTP/1.1 response read off a raw stream: status, lower-cased headers, Content-Length bytes of body.</summary>
public sealed record RawHttpResponse(int Status, Dictionary<string, string> Headers, byte[] Body)
{
    /// <summary>Reads one response; <paramref name="hasBody"/> false for a HEAD's (its Content-Length is not sent).</summary>
    public static async Task<RawHttpResponse> ReadAsync(Stream stream, bool hasBody, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                throw new EndOfStreamException($"connection closed inside a response head: {Encoding.ASCII.GetString([.. head])}");
            }

            head.Add(one[0]);
        }

        var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        var length = hasBody ? int.Parse(headers["content-length"], CultureInfo.InvariantCulture) : 0;
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellationToken);
        return new RawHttpResponse(status, headers, body);
    }
}
