using System.Diagnostics.Metrics;

namespace Dragonfly.Supernode.Tests.Managers.Support;

/// <summary>A meter factory that creates plain meters (disposed with the factory).</summary>
public sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}
