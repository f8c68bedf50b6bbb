using Dragonfly.Common.Security;
using Serilog.Core;
using Serilog.Events;

namespace Dragonfly.Common.Logging;

/// <summary>
/// Hides a user and password given in a URL (<c>http://user:pass@host/…</c>) in every log property before any sink
/// renders it, so no log line of the three programs writes one, whichever call site logged the URL.
/// </summary>
public sealed class RedactingEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        List<LogEventProperty>? replaced = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            var text = value switch
            {
                ScalarValue { Value: string s } => s,
                ScalarValue { Value: Uri u } => u.OriginalString,
                _ => null,
            };
            if (text is null || !text.Contains('@', StringComparison.Ordinal) || !text.Contains("://", StringComparison.Ordinal))
            {
                continue;
            }

            var hidden = Redact.Argument(text);
            if (!string.Equals(hidden, text, StringComparison.Ordinal))
            {
                (replaced ??= []).Add(new LogEventProperty(name, new ScalarValue(hidden)));
            }
        }

        foreach (var property in replaced ?? [])
        {
            logEvent.AddOrUpdateProperty(property);
        }
    }
}
