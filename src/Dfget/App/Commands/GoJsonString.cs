using System.Globalization;
using System.Text;

namespace Dragonfly.Dfget.App.Commands;

/// <summary>
/// A string as a JSON literal written the way the original dfget's Go <c>encoding/json</c> wrote it (Go 1.12, HTML-safe,
/// as in its <c>error:{"Code":…,"Msg":"…"}</c> console line): <c>\"</c> and <c>\\</c>, <c>\n</c>, <c>\r</c> and
/// <c>\t</c>, every other control character and <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c>, U+2028 and U+2029 as
/// <c>\u00XX</c>-style escapes, a lone surrogate as <c>\ufffd</c>, and everything else as it is.
/// </summary>
internal static class GoJsonString
{
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = new StringBuilder(value.Length + 2).Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                case '\n':
                    text.Append("\\n");
                    break;
                case '\r':
                    text.Append("\\r");
                    break;
                case '\t':
                    text.Append("\\t");
                    break;
                case < ' ' or '<' or '>' or '&' or '\u2028' or '\u2029':
                    text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        text.Append(c).Append(value[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        text.Append("\\ufffd");
                    }
                    else
                    {
                        text.Append(c);
                    }

                    break;
            }
        }

        return text.Append('"').ToString();
    }
}
