using System.Globalization;
using System.Net;
using System.Net.Sockets;
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

    /// <summary>
    /// The status of the first response on <paramref name="stream"/>, or null when the server closed (or reset) the
    /// connection without answering, or sent nothing within <paramref name="wait"/> (still waiting for the rest of a
    /// request). A connection that ends inside a status line, or bytes that are not one, are an error.
    /// </summary>
    public static async Task<int?> FirstStatusWithinAsync(Stream stream, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var within = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        within.CancelAfter(wait);
        try
        {
            return await FirstStatusAsync(stream, within.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Sends <paramref name="edited"/> request bytes, and the end of a head after them, on a new connection to 127.0.0.1
    /// and returns <see cref="FirstStatusWithinAsync"/>. The end makes most edited requests whole; the connection is left
    /// open, because Kestrel's HTTP layer aborts a request whose client half-closed before it answered.
    /// </summary>
    public static async Task<int?> StatusOfEditedRequestAsync(int port, byte[] edited, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
        await using var stream = new NetworkStream(socket);
        await stream.WriteAsync((byte[])[.. edited, .. "\r\n\r\n"u8], cancellationToken);
        return await FirstStatusWithinAsync(stream, wait, cancellationToken);
    }

    private static async Task<int?> FirstStatusAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[12];
        var filled = 0;
        while (filled < buffer.Length)
        {
            int n;
            try
            {
                n = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            }
            catch (IOException)
            {
                return null;
            }

            if (n == 0)
            {
                return filled == 0 ? null : throw new EndOfStreamException($"connection closed inside a status line: {Encoding.ASCII.GetString(buffer, 0, filled)}");
            }

            filled += n;
        }

        var line = Encoding.ASCII.GetString(buffer);
        return line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status)
            ? status
            : throw new InvalidDataException($"not an HTTP/1.1 status line: {line}");
    }
}
