using System.Globalization;
using System.Text;

namespace Dragonfly.Common.Http1;

/// <summary>Formats the status line and header fields of one response sent on a raw connection.</summary>
public static class ResponseHead
{
    public static byte[] Format(int status, long contentLength, bool hasContent, bool acceptRanges, string? contentRange, bool keepAlive, bool http11, DateTimeOffset now)
    {
        var text = new StringBuilder(256)
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {Reason(status)}\r\n")
            .Append("Date: ").Append(now.ToString("R", CultureInfo.InvariantCulture)).Append("\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {contentLength}\r\n");
        if (hasContent)
        {
            text.Append("Content-Type: application/octet-stream\r\n");
        }

        if (acceptRanges)
        {
            text.Append("Accept-Ranges: bytes\r\n");
        }

        if (contentRange is not null)
        {
            text.Append("Content-Range: ").Append(contentRange).Append("\r\n");
        }

        if (status == 405)
        {
            text.Append("Allow: GET, HEAD\r\n");
        }

        if (!keepAlive)
        {
            text.Append("Connection: close\r\n");
        }
        else if (!http11)
        {
            text.Append("Connection: keep-alive\r\n");
        }

        return Encoding.ASCII.GetBytes(text.Append("\r\n").ToString());
    }

    /// <summary>The reason phrase of a status these servers send ("Unknown" for any other).</summary>
    public static string Reason(int status) => status switch
    {
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    };
}
