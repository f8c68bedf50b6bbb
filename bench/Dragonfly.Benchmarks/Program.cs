using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Dragonfly.Benchmarks.BenchmarkEntry).Assembly).Run(args);

namespace Dragonfly.Benchmarks
{
    /// <summary>Anchor type used to find the benchmarks in this assembly.</summary>
    public static class BenchmarkEntry;
}
