using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Managers;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Progress;
using Dragonfly.Supernode.Managers.Scheduler;

namespace Dragonfly.Benchmarks;

/// <summary>
/// One scheduler pull decision in a swarm of 1,000 pieces × 1,000 peers, each peer holding a random half of the pieces.
/// Every iteration undoes the reservations the pull made, so each decision sees the same swarm.
/// </summary>
[MemoryDiagnoser]
public class SchedulerBenchmarks
{
    private SchedulerSwarm _swarm = null!;

    [Params(1000)]
    public int Pieces { get; set; }

    [Params(1000)]
    public int Peers { get; set; }

    [GlobalSetup]
    public void Setup() => _swarm = new SchedulerSwarm(Pieces, Peers, seed: 42);

    [Benchmark]
    public int PullDecision() => _swarm.PullOnce();
}

/// <summary>The swarm shared by the BenchmarkDotNet bench and the p99 loop.</summary>
internal sealed class SchedulerSwarm
{
    private readonly TaskSwarm _swarm;
    private readonly ClientProgress _requester;
    private readonly SchedulerMgr _scheduler;

    public SchedulerSwarm(int pieces, int peers, int seed)
    {
        var task = TaskId.Parse(new string('b', 64));
        var options = new TrackerOptions { AdvertiseIp = "10.0.0.1" };
        _swarm = new TaskSwarm(task, Cid.ForSupernode("10.0.0.1", task));
        _scheduler = new SchedulerMgr(options, TimeProvider.System, new Random(seed));
        var random = new Random(seed);
        for (var i = 0; i < pieces; i++)
        {
            _swarm.CdnPieces.Add(i);
        }

        for (var p = 0; p < peers; p++)
        {
            var client = Make(task, p);
            for (var i = 0; i < pieces; i++)
            {
                if (random.Next(2) == 0)
                {
                    client.Succeeded.Add(i);
                    _swarm.AddHolder(i, client);
                }
            }
        }

        _requester = Make(task, peers);
    }

    public int PullOnce()
    {
        var result = _scheduler.Schedule(_swarm, _requester, 0);
        foreach (var a in result.Pieces)
        {
            if (a.FromSupernode)
            {
                _swarm.SuperLoad--;
            }
            else
            {
                _swarm.Clients[a.Uploader].Peer.ReleaseUpload();
            }
        }

        _requester.Running.Clear();
        _requester.RunningSum = 0;
        return result.Pieces.Count;
    }

    /// <summary>Runs <paramref name="iterations"/> decisions and returns the latency percentiles in microseconds.</summary>
    public (double P50, double P99, double Max) Measure(int iterations)
    {
        for (var i = 0; i < 200; i++)
        {
            PullOnce();
        }

        var samples = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            PullOnce();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(samples);
        return (samples[iterations / 2], samples[(int)(iterations * 0.99)], samples[^1]);
    }

    private ClientProgress Make(TaskId task, int n)
    {
        var ip = $"10.{n / 65536 % 256}.{n / 256 % 256}.{n % 256}";
        var join = new ClientJoin(task, Cid.Parse($"{ip}-1-1.000"), PeerId.Parse($"h{n}-{ip}-{n}"), ip, 15001, $"/peer/file/f-{n}", "10.0.0.1", PeerPattern.P2P);
        var client = new ClientProgress(join, new PeerProgress(join.PeerId, PeerPattern.P2P));
        _swarm.Clients[client.Cid] = client;
        return client;
    }
}
