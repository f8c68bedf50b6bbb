using Dragonfly.Common.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Dragonfly.Common.Tests.Logging;

public class RedactingEnricherTests
{
    [Fact]
    public void Enrich_UrlsWithCredentials_AreRenderedWithoutThem()
    {
        var sink = new ListSink();
        using (var logger = new LoggerConfiguration().Enrich.With<RedactingEnricher>().WriteTo.Sink(sink).CreateLogger())
        {
            logger.Information("Downloading {Url} from {Origin}", new Uri("http://alice:s3cret@origin/a.bin"), "https://token@registry/v2/x");
            logger.Information("Mail {Address} at {Url}", "ops@example.com", "http://origin/a@b.bin");
        }

        sink.Lines.Should().Equal(
            "Downloading \"http://<redacted>@origin/a.bin\" from \"https://<redacted>@registry/v2/x\"",
            "Mail \"ops@example.com\" at \"http://origin/a@b.bin\"");
    }

    private sealed class ListSink : ILogEventSink
    {
        public List<string> Lines { get; } = [];

        public void Emit(LogEvent logEvent) => Lines.Add(logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture));
    }
}
