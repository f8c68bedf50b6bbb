using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Dragonfly.Common.Hashing;

namespace Dragonfly.Benchmarks;

/// <summary>
/// What the md5s the protocol requires cost on this machine, in CPU seconds per GiB per stream, with the best hashing
/// this project has: one stream alone (OpenSSL through <see cref="MD5"/>), two streams over the same bytes
/// (<see cref="Md5Pair"/>, the CDN's piece and file md5), and two and four independent streams on one
/// <see cref="Md5Batcher"/> (a client's piece md5s and its file md5). eng/bench-floor.sh adds these to the cost of the
/// transfers to compute the floor of each scenario.
/// </summary>
internal static class Md5Cost
{
    private const int Chunk = 1 << 20;

    /// <summary>Prints one line per measure: <c>name cpu_s_per_gib_per_stream</c>, the median of <paramref name="runs"/>.</summary>
    public static async Task RunAsync(int mebibytes, int runs)
    {
        var data = new byte[(long)mebibytes << 20];
        Random.Shared.NextBytes(data);
        var gib = mebibytes / 1024.0;

        Report("one_stream", await MedianAsync(runs, () =>
        {
            MD5.HashData(data);
            return Task.CompletedTask;
        }) / gib);

        Report("pair_same_bytes", await MedianAsync(runs, () =>
        {
            var pair = new Md5Pair();
            for (var offset = 0; offset < data.Length; offset += Chunk)
            {
                pair.AppendBoth(data.AsSpan(offset, Math.Min(Chunk, data.Length - offset)));
            }

            Span<byte> digest = stackalloc byte[Md5Pair.HashSizeInBytes];
            pair.GetHashAndResetFirst(digest);
            pair.GetHashAndResetSecond(digest);
            return Task.CompletedTask;
        }) / (2 * gib));

        foreach (var streams in new[] { 2, 4 })
        {
            using var batcher = new Md5Batcher();
            var share = data.Length / streams;
            Report($"batched_{streams}_streams", await MedianAsync(runs, () =>
                Task.WhenAll(Enumerable.Range(0, streams).Select(s => Task.Run(async () =>
                {
                    var md5 = batcher.CreateStream();
                    for (var offset = 0; offset < share; offset += Chunk)
                    {
                        await md5.AppendAsync(data.AsMemory((s * share) + offset, Math.Min(Chunk, share - offset)));
                    }

                    md5.GetHashHex();
                })))) / gib);
        }
    }

    private static async Task<double> MedianAsync(int runs, Func<Task> work)
    {
        await work(); // warm-up: tiering, the batcher's worker thread
        var samples = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            using var process = Process.GetCurrentProcess();
            var before = process.TotalProcessorTime;
            await work();
            process.Refresh();
            samples.Add((process.TotalProcessorTime - before).TotalSeconds);
        }

        samples.Sort();
        return samples[samples.Count / 2];
    }

    private static void Report(string name, double cpuPerGib) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {cpuPerGib:F3}"));
}
