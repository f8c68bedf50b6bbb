using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dragonfly.TestCommon;

/// <summary>
/// A manually advanced <see cref="TimeProvider"/> whose timers (and so <see cref="PeriodicTimer"/>s) fire only from
/// <see cref="Advance"/>; used by the uploader's expiry and alive-time tests.
/// </summary>
public sealed class UploaderManualClock : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now;
    private long _ticks;

    public UploaderManualClock(DateTimeOffset? start = null) => _now = start ?? DateTimeOffset.UtcNow;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _ticks;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves time forward, firing every timer that falls due on the way, in order.</summary>
    public void Advance(TimeSpan by)
    {
        long target;
        lock (_gate)
        {
            target = _ticks + by.Ticks;
        }

        while (true)
        {
            ManualTimer? due;
            lock (_gate)
            {
                due = _timers.Where(t => t.DueAt is { } d && d <= target).MinBy(t => t.DueAt);
                if (due is null)
                {
                    _now += TimeSpan.FromTicks(target - _ticks);
                    _ticks = target;
                    return;
                }

                var at = due.DueAt!.Value;
                _now += TimeSpan.FromTicks(at - _ticks);
                _ticks = at;
                due.DueAt = due.Period > 0 ? at + due.Period : null;
            }

            due.Fire();
        }
    }

    /// <summary>Advances in <paramref name="step"/>s, yielding between steps so awaiting loops can run.</summary>
    public async Task AdvanceInStepsAsync(TimeSpan total, TimeSpan step)
    {
        for (var done = TimeSpan.Zero; done < total; done += step)
        {
            Advance(step);
            await Task.Delay(15);
        }
    }

    private sealed class ManualTimer(UploaderManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long? DueAt { get; set; }

        public long Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                Period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    DueAt = null;
                    return true;
                }

                DueAt = clock._ticks + dueTime.Ticks;
                clock._timers.Add(this);
                return true;
            }
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>A fake supernode on 127.0.0.1:0 that records every <c>/peer/service/down</c> query (<c>taskId</c>, <c>cid</c>).</summary>
public sealed class RecordingSupernode : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RecordingSupernode(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public ConcurrentQueue<(string TaskId, string Cid)> ServiceDowns { get; } = new();

    public static async Task<RecordingSupernode> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        RecordingSupernode? self = null;
        app.Run(async context =>
        {
            if (context.Request.Path == "/peer/service/down")
            {
                self!.ServiceDowns.Enqueue((context.Request.Query["taskId"].ToString(), context.Request.Query["cid"].ToString()));
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"code\":612}");
                return;
            }

            context.Response.StatusCode = 404;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new RecordingSupernode(app, new Uri(address).Port);
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
