using System.Diagnostics.Metrics;

namespace Dragonfly.Dfget.Uploader;

/// <summary>
/// Instruments of meter <c>Dragonfly.Dfget.Uploader</c>: bytes and pieces served to peers (tagged with the task file
/// name), and failed uploads — so an operator can prove how much a host served (the original's #1445/#1521).
/// </summary>
public sealed class UploaderMetrics : IDisposable
{
    public const string MeterName = "Dragonfly.Dfget.Uploader";
    public const string BytesServedName = "dragonfly.dfget.uploader.served_bytes";
    public const string PiecesServedName = "dragonfly.dfget.uploader.served_pieces";
    public const string UploadFailuresName = "dragonfly.dfget.uploader.failed_uploads";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _pieces;
    private readonly Counter<long> _failures;

    public UploaderMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _bytes = _meter.CreateCounter<long>(BytesServedName, "By", "Bytes of piece bodies sent to peers");
        _pieces = _meter.CreateCounter<long>(PiecesServedName, "{piece}", "Pieces sent to peers completely");
        _failures = _meter.CreateCounter<long>(UploadFailuresName, "{piece}", "Uploads aborted after the response started");
    }

    public void Served(string taskFileName, long bytes, bool complete)
    {
        var tag = new KeyValuePair<string, object?>("task", taskFileName);
        _bytes.Add(bytes, tag);
        if (complete)
        {
            _pieces.Add(1, tag);
        }
        else
        {
            _failures.Add(1, tag);
        }
    }

    public void Dispose()
    {
        // A factory-created meter belongs to the factory.
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
