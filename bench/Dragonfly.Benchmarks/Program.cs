using System.Globalization;
using BenchmarkDotNet.Running;
using Dragonfly.Benchmarks;

// `scheduler-p99 [iterations]` prints the latency percentiles of one pull decision (BenchmarkDotNet has no p99 column);
// anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "scheduler-p99")
{
    var iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20_000;
    var (p50, p99, max) = new SchedulerSwarm(1000, 1000, seed: 42).Measure(iterations);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"scheduler pull decision, 1000 pieces x 1000 peers, {iterations} runs: p50 {p50:F1} us, p99 {p99:F1} us, max {max:F1} us"));
    return;
}

// `md5-cost [MiB] [runs]` prints what the protocol's md5s cost per GiB per stream (eng/bench-floor.sh uses it).
if (args.Length > 0 && args[0] == "md5-cost")
{
    await Md5Cost.RunAsync(
        args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 256,
        args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntry).Assembly).Run(args);

namespace Dragonfly.Benchmarks
{
    /// <summary>Anchor type used to find the benchmarks in this assembly.</summary>
    public static class BenchmarkEntry;
}
