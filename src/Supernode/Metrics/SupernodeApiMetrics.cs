using System.Diagnostics.Metrics;
using System.Globalization;
using Dragonfly.Supernode.Hosting;

namespace Dragonfly.Supernode.Metrics;

/// <summary>
/// The API's instruments on the <c>Dragonfly.Supernode</c> meter (§2.10): HTTP requests per route template, build info,
/// and what dfget clients report through <c>POST /task/metrics</c>.
/// </summary>
public sealed class SupernodeApiMetrics
{
    public const string MeterName = "Dragonfly.Supernode";

    /// <summary>The <c>handler</c> label of a request that matched no route (or was not a request at all).</summary>
    public const string UnmatchedHandler = "unmatched";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Histogram<long> _requestSize;
    private readonly Histogram<long> _responseSize;
    private readonly Histogram<double> _dfgetDuration;
    private readonly Counter<long> _dfgetBytes;
    private readonly Counter<long> _dfgetDownloads;
    private readonly Counter<long> _dfgetFailures;
    private readonly DfgetReportLabels _labels = new();

    /// <summary>The longest download a dfget report may claim (a year): anything longer is a broken or hostile report.</summary>
    public const double MaxReportedDurationSeconds = 365 * 24 * 3600;

    /// <summary>The largest file a dfget report may claim (1 PiB), far beyond any task yet small enough that the byte sum cannot overflow.</summary>
    public const long MaxReportedFileLength = 1L << 50;

    public SupernodeApiMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("dragonfly_supernode_http_requests_total", description: "HTTP requests by status code and route template");
        _duration = meter.CreateHistogram<double>("dragonfly_supernode_http_request_duration_seconds", unit: "s", description: "HTTP request latencies in seconds");
        _requestSize = meter.CreateHistogram<long>("dragonfly_supernode_http_request_size_bytes", unit: "By", description: "HTTP request sizes in bytes");
        _responseSize = meter.CreateHistogram<long>("dragonfly_supernode_http_response_size_bytes", unit: "By", description: "HTTP response sizes in bytes");
        _dfgetDuration = meter.CreateHistogram<double>("dragonfly_dfget_download_duration_seconds", unit: "s", description: "Download durations reported by dfget");
        _dfgetBytes = meter.CreateCounter<long>("dragonfly_dfget_download_size_bytes_total", unit: "By", description: "Bytes downloaded as reported by dfget");
        _dfgetDownloads = meter.CreateCounter<long>("dragonfly_dfget_download_total", description: "Downloads reported by dfget");
        _dfgetFailures = meter.CreateCounter<long>("dragonfly_dfget_download_failed_total", description: "Failed downloads reported by dfget");
        var version = SupernodeVersion.Current;
        meter.CreateObservableGauge(
            "dragonfly_supernode_build_info",
            () => new Measurement<int>(1, [
                new("version", version.Version), new("revision", version.Revision), new("os", version.OS),
                new("arch", version.Arch), new("goversion", version.GoVersion),
            ]),
            description: "Build information of the supernode");
    }

    public void RecordRequest(string handler, int statusCode, double seconds, long? requestBytes, long? responseBytes)
    {
        var code = statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _requests.Add(1, new KeyValuePair<string, object?>("code", code), new KeyValuePair<string, object?>("handler", handler));
        _duration.Record(seconds, new KeyValuePair<string, object?>("handler", handler));
        if (requestBytes is { } request)
        {
            _requestSize.Record(request, new KeyValuePair<string, object?>("handler", handler));
        }

        if (responseBytes is { } response)
        {
            _responseSize.Record(response, new KeyValuePair<string, object?>("handler", handler));
        }
    }

    /// <summary>
    /// Why a report's numbers cannot be recorded (null when they can): a duration that is not a finite number of seconds
    /// between 0 and <see cref="MaxReportedDurationSeconds"/>, or a file length outside 0..<see cref="MaxReportedFileLength"/>
    /// other than -1 (unknown, as everywhere in the protocol: dfget reports it for a failed download of unknown length).
    /// One such value would otherwise stay in a sum for ever (<c>+Inf</c>, or an overflowed byte counter).
    /// </summary>
    public static string? DfgetReportProblem(double? durationSeconds, long? fileLength)
    {
        if (durationSeconds is { } seconds && !(double.IsFinite(seconds) && seconds is >= 0 and <= MaxReportedDurationSeconds))
        {
            return string.Create(CultureInfo.InvariantCulture, $"duration {seconds} must be between 0 and {MaxReportedDurationSeconds} seconds");
        }

        return fileLength is { } length and (< -1 or > MaxReportedFileLength)
            ? string.Create(CultureInfo.InvariantCulture, $"fileLength {length} must be -1 (unknown) or between 0 and {MaxReportedFileLength}")
            : null;
    }

    /// <summary>
    /// Records one <c>POST /task/metrics</c> report, its free-text labels bounded by <see cref="DfgetReportLabels"/>; numbers
    /// that <see cref="DfgetReportProblem"/> refuses are left out (the endpoint refuses such a report before it gets here).
    /// </summary>
    public void RecordDfgetReport(string? callSystem, string? peerIp, double? durationSeconds, bool success, string? backSourceReason, long? fileLength)
    {
        var cs = new KeyValuePair<string, object?>("callsystem", _labels.CallSystem(callSystem));
        var peer = new KeyValuePair<string, object?>("peer", _labels.Peer(peerIp));
        _dfgetDownloads.Add(1);
        if (success)
        {
            if (durationSeconds is { } seconds && DfgetReportProblem(seconds, null) is null)
            {
                _dfgetDuration.Record(seconds, cs, peer);
            }

            if (fileLength is { } length and > 0 and <= MaxReportedFileLength)
            {
                _dfgetBytes.Add(length);
            }
        }
        else
        {
            _dfgetFailures.Add(1, cs, peer, new KeyValuePair<string, object?>("reason", DfgetReportLabels.Reason(backSourceReason)));
        }
    }
}
