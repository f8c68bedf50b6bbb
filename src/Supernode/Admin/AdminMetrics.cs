using System.Diagnostics.Metrics;
using System.Globalization;

namespace Dragonfly.Supernode.Admin;

/// <summary>The admin token check's counters on the "Dragonfly.Supernode" meter (<c>GET /metrics</c>).</summary>
public sealed class AdminMetrics
{
    public const string MeterName = "Dragonfly.Supernode";

    private readonly Counter<long> _refusals;
    private readonly Counter<long> _lockouts;

    public AdminMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _refusals = meter.CreateCounter<long>(
            "dragonfly_supernode_admin_refusals_total",
            description: "Requests to the management routes refused by status code: 401 no token, 403 a wrong token, 429 locked out");
        _lockouts = meter.CreateCounter<long>(
            "dragonfly_supernode_admin_lockouts_total",
            description: "Lockouts of a client from the management routes after too many wrong admin tokens");
    }

    public void Refused(int statusCode) =>
        _refusals.Add(1, new KeyValuePair<string, object?>("code", statusCode.ToString(CultureInfo.InvariantCulture)));

    public void LockedOut() => _lockouts.Add(1);
}
