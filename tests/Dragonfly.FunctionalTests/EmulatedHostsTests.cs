using System.Reflection;
using System.Text.Json;
using Dragonfly.TestCommon;

namespace Dragonfly.FunctionalTests;

/// <summary>
/// The CI-sized variant of the whole-system benchmark (BENCHMARKS.md, B1 at N ∈ {1, 4} with S = 32 MiB): every host is
/// its own network namespace on one bridge, links capped with tc (origin 200 Mbit/s up, peers 100 Mbit/s). Asserts
/// correctness and origin egress, never timing.
/// </summary>
public class EmulatedHostsTests
{
    private const long S = 32L * 1024 * 1024;

    [Fact]
    public async Task B1Ci_OneAndFourPeersOnSeparateHosts_CorrectCopiesOriginServesTheFileOnceAndPeersShare()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        using var temp = new TempDirectory("hosts-");
        var results = temp.Combine("hosts.json");
        await using var run = ProcessHost.Start(
            "bash",
            [Path.Combine(RepositoryRoot(), "eng", "bench-hosts.sh"), "--ci"],
            environment: new Dictionary<string, string>
            {
                ["DRAGONFLY_BIN"] = DragonflyBinaries.Directory,
                ["BENCH_HOSTS_OUT"] = results,
                ["BENCH_HOSTS_NS"] = "1 4",
                ["BENCH_HOSTS_MIB"] = "32",
            });
        await run.WaitForExitAsync(cts.Token);

        run.ExitCode.Should().Be(0, run.Output);
        var runs = File.ReadAllLines(results).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        runs.Select(r => r.GetProperty("n").GetInt32()).Should().Equal(1, 4);
        foreach (var r in runs)
        {
            var n = r.GetProperty("n").GetInt32();
            r.GetProperty("ok").GetInt32().Should().Be(1, run.Output);
            r.GetProperty("size").GetInt64().Should().Be(S);

            // The supernode's CDN fetched the file once (plus the one-byte length probe), whatever N.
            r.GetProperty("origin_bytes").GetInt64().Should().BeInRange(S, (long)(1.05 * S), run.Output);

            // Every byte each peer wrote is accounted for, and none came from the origin directly (no fallback).
            var fromPeers = r.GetProperty("from_peers").GetInt64();
            var fromSupernode = r.GetProperty("from_supernode").GetInt64();
            r.GetProperty("from_origin").GetInt64().Should().Be(0, run.Output);
            (fromPeers + fromSupernode).Should().Be(n * S, run.Output);
            if (n == 1)
            {
                fromPeers.Should().Be(0, "a lone peer has nobody to fetch from");
            }
            else
            {
                fromPeers.Should().BePositive("with four hosts, pieces cross between peers: " + run.Output);
            }
        }
    }

    private static string RepositoryRoot() =>
        typeof(EmulatedHostsTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value
        ?? throw new InvalidOperationException("the test assembly does not record the repository root");
}
