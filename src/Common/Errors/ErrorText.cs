using System.Text;

namespace Dragonfly.Common.Errors;

/// <summary>Error text for a terminal or a log line.</summary>
public static class ErrorText
{
    /// <summary>
    /// <paramref name="text"/> on one line: line breaks become spaces and other control characters <c>?</c>, so a value
    /// quoted in a message (a flag, a variable, a YAML string) can neither end the line nor drive the terminal.
    /// </summary>
    public static string OneLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var flat = text.ReplaceLineEndings(" ");
        if (!flat.Any(char.IsControl))
        {
            return flat.Trim();
        }

        var sb = new StringBuilder(flat.Length);
        foreach (var c in flat)
        {
            sb.Append(c == '\t' ? ' ' : char.IsControl(c) ? '?' : c);
        }

        return sb.ToString().Trim();
    }
}
