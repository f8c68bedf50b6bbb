using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Dragonfly.Supernode.Metrics;

/// <summary>
/// A small Prometheus text-format (0.0.4) exporter over <see cref="System.Diagnostics.Metrics"/>: a <see cref="MeterListener"/>
/// aggregates every instrument of the <c>Dragonfly*</c> meters this host's <see cref="IMeterFactory"/> created (or unscoped ones): counters and up-down counters as sums, histograms as cumulative buckets, observable
/// instruments read at scrape time. Names get the <c>dragonfly_</c> prefix when they lack it; counters end in <c>_total</c>.
/// Meters of other hosts in the same process (tests) are ignored because their scope is another factory.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] MillisecondsBuckets = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
    private static readonly double[] BytesBuckets = [1024, 16384, 131072, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824];

    private readonly MeterListener _listener;
    private readonly IMeterFactory _meterFactory;
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();
    private readonly Lock _collectLock = new();

    public PrometheusExporter(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meterFactory = meterFactory;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ShouldListen(instrument))
                {
                    _instruments.TryAdd(instrument, new InstrumentState(instrument));
                    listener.EnableMeasurementEvents(instrument);
                }
            },
            MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out InstrumentState? _),
        };
        _listener.SetMeasurementEventCallback<long>((i, m, t, _) => Record(i, m, t));
        _listener.SetMeasurementEventCallback<int>((i, m, t, _) => Record(i, m, t));
        _listener.SetMeasurementEventCallback<double>((i, m, t, _) => Record(i, m, t));
        _listener.SetMeasurementEventCallback<float>((i, m, t, _) => Record(i, m, t));
        _listener.SetMeasurementEventCallback<short>((i, m, t, _) => Record(i, m, t));
        _listener.SetMeasurementEventCallback<byte>((i, m, t, _) => Record(i, m, t));
        _listener.SetMeasurementEventCallback<decimal>((i, m, t, _) => Record(i, (double)m, t));
        _listener.Start();
    }

    /// <summary>Renders every metric in the Prometheus text exposition format.</summary>
    public string Render()
    {
        var sb = new StringBuilder();
        lock (_collectLock)
        {
            // Observable instruments report inside this call; their values replace the previous ones.
            foreach (var state in _instruments.Values)
            {
                if (state.IsObservable)
                {
                    state.ClearObserved();
                }
            }

            _listener.RecordObservableInstruments();
            foreach (var group in _instruments.Values.GroupBy(s => s.PrometheusName).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var first = group.First();
                sb.Append("# HELP ").Append(group.Key).Append(' ').Append(Escape(first.Instrument.Description ?? first.Instrument.Name, help: true)).Append('\n');
                sb.Append("# TYPE ").Append(group.Key).Append(' ').Append(first.PrometheusType).Append('\n');
                foreach (var state in group)
                {
                    state.Write(sb);
                }
            }
        }

        return sb.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private bool ShouldListen(Instrument instrument) =>
        instrument.Meter.Name.StartsWith("Dragonfly", StringComparison.Ordinal) &&
        (ReferenceEquals(instrument.Meter.Scope, _meterFactory) || instrument.Meter.Scope is null);

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_instruments.TryGetValue(instrument, out var state))
        {
            state.Record(value, tags);
        }
    }

    internal static string PrometheusNameOf(Instrument instrument)
    {
        var sb = new StringBuilder(instrument.Name.Length + 16);
        foreach (var c in instrument.Name)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        var name = sb.ToString();
        if (!name.StartsWith("dragonfly_", StringComparison.Ordinal))
        {
            name = "dragonfly_" + name;
        }

        if (IsCounter(instrument) && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }

        return name;
    }

    private static bool IsCounter(Instrument instrument)
    {
        var type = instrument.GetType();
        return type.IsGenericType &&
               (type.GetGenericTypeDefinition() == typeof(Counter<>) || type.GetGenericTypeDefinition() == typeof(ObservableCounter<>));
    }

    private static bool IsHistogram(Instrument instrument) =>
        instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() == typeof(Histogram<>);

    private static string Escape(string value, bool help = false)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\n': sb.Append(@"\n"); break;
                case '"' when !help: sb.Append("\\\""); break;
                default: sb.Append(c); break;
            }
        }

        return sb.ToString();
    }

    private static string LabelName(string key)
    {
        var sb = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return sb.Length > 0 && char.IsAsciiDigit(sb[0]) ? "_" + sb : sb.ToString();
    }

    private static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Aggregated series of one instrument, keyed by their rendered label set.</summary>
    private sealed class InstrumentState
    {
        private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly double[]? _buckets;

        public InstrumentState(Instrument instrument)
        {
            Instrument = instrument;
            PrometheusName = PrometheusNameOf(instrument);
            IsObservable = instrument.IsObservable;
            var histogram = IsHistogram(instrument);
            PrometheusType = histogram ? "histogram" : IsCounter(instrument) ? "counter" : "gauge";
            if (histogram)
            {
                _buckets = instrument.Unit switch
                {
                    "ms" => MillisecondsBuckets,
                    "By" => BytesBuckets,
                    _ => SecondsBuckets,
                };
            }
        }

        public Instrument Instrument { get; }

        public string PrometheusName { get; }

        public string PrometheusType { get; }

        public bool IsObservable { get; }

        public void ClearObserved() => _series.Clear();

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = RenderLabels(tags);
            var series = _series.GetOrAdd(labels, _ => new Series(_buckets?.Length ?? 0));
            lock (series)
            {
                if (_buckets is not null)
                {
                    series.Count++;
                    series.Sum += value;
                    for (var i = 0; i < _buckets.Length; i++)
                    {
                        if (value <= _buckets[i])
                        {
                            series.BucketCounts[i]++;
                        }
                    }
                }
                else if (IsObservable && PrometheusType == "gauge")
                {
                    series.Sum = value;
                }
                else if (IsObservable)
                {
                    // Observable counters report the running total.
                    series.Sum = value;
                }
                else
                {
                    series.Sum += value;
                }
            }
        }

        public void Write(StringBuilder sb)
        {
            foreach (var (labels, series) in _series.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                lock (series)
                {
                    if (_buckets is null)
                    {
                        sb.Append(PrometheusName).Append(Braced(labels)).Append(' ').Append(Number(series.Sum)).Append('\n');
                        continue;
                    }

                    for (var i = 0; i < _buckets.Length; i++)
                    {
                        sb.Append(PrometheusName).Append("_bucket").Append(Braced(Join(labels, $"le=\"{Number(_buckets[i])}\"")))
                            .Append(' ').Append(series.BucketCounts[i].ToString(CultureInfo.InvariantCulture)).Append('\n');
                    }

                    sb.Append(PrometheusName).Append("_bucket").Append(Braced(Join(labels, "le=\"+Inf\"")))
                        .Append(' ').Append(series.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    sb.Append(PrometheusName).Append("_sum").Append(Braced(labels)).Append(' ').Append(Number(series.Sum)).Append('\n');
                    sb.Append(PrometheusName).Append("_count").Append(Braced(labels)).Append(' ')
                        .Append(series.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
            }
        }

        private static string Braced(string labels) => labels.Length == 0 ? string.Empty : "{" + labels + "}";

        private static string Join(string labels, string extra) => labels.Length == 0 ? extra : labels + "," + extra;

        private string RenderLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var all = new List<KeyValuePair<string, object?>>(tags.Length + 4);
            if (Instrument.Tags is { } fixedTags)
            {
                all.AddRange(fixedTags);
            }

            foreach (var tag in tags)
            {
                all.Add(tag);
            }

            if (all.Count == 0)
            {
                return string.Empty;
            }

            all.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            var sb = new StringBuilder();
            foreach (var (key, value) in all)
            {
                if (sb.Length > 0)
                {
                    sb.Append(',');
                }

                var text = value switch
                {
                    null => string.Empty,
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    _ => value.ToString() ?? string.Empty,
                };
                sb.Append(LabelName(key)).Append("=\"").Append(Escape(text)).Append('"');
            }

            return sb.ToString();
        }
    }

    private sealed class Series(int buckets)
    {
        public double Sum;
        public long Count;
        public readonly long[] BucketCounts = new long[buckets];
    }
}
