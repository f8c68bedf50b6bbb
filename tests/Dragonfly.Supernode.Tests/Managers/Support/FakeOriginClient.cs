using Dragonfly.Supernode.Origin;

namespace Dragonfly.Supernode.Tests.Managers.Support;

/// <summary>An origin that answers probes from a settable function and counts them.</summary>
public sealed class FakeOriginClient : IOriginClient
{
    private int _probes;

    public Func<OriginRequest, OriginProbe> Probe { get; set; } = _ => new OriginProbe(OriginProbeStatus.Ok, 10 * 1024 * 1024, 200);

    public int ProbeCount => Volatile.Read(ref _probes);

    public List<OriginRequest> Requests { get; } = [];

    /// <summary>When set, probes wait for it (to hold registrations in flight).</summary>
    public TaskCompletionSource? ProbeGate { get; set; }

    public async Task<OriginProbe> ProbeAsync(OriginRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _probes);
        lock (Requests)
        {
            Requests.Add(request);
        }

        if (ProbeGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return Probe(request);
    }

    public Task<bool> SupportsRangeAsync(OriginRequest request, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task<HttpResponseMessage> GetAsync(OriginRequest request, IReadOnlyDictionary<string, string>? extraHeaders, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the tracker never downloads");
}
