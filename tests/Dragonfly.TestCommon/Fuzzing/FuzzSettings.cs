using System.Globalization;

namespace Dragonfly.TestCommon.Fuzzing;

/// <summary>
/// How much the fuzz suite runs, from the environment (read once per test process):
/// <list type="bullet">
/// <item><c>DRAGONFLY_FUZZ_SEED</c>: the base seed (default <see cref="DefaultSeed"/>, so CI runs the same cases every
/// time); <c>random</c> picks a new one, which every failure names.</item>
/// <item><c>DRAGONFLY_FUZZ_SCALE</c>: a multiplier of every target's case count (default 1, CI's; <c>./build.sh fuzz</c>
/// uses 20).</item>
/// <item><c>DRAGONFLY_FUZZ_CASE</c>: run only this case of each target (the replay of a failure).</item>
/// </list>
/// </summary>
public sealed record FuzzSettings(int Seed, double Scale, int? OnlyCase)
{
    public const int DefaultSeed = 20261122;

    public const string SeedVariable = "DRAGONFLY_FUZZ_SEED";
    public const string ScaleVariable = "DRAGONFLY_FUZZ_SCALE";
    public const string CaseVariable = "DRAGONFLY_FUZZ_CASE";

    private static readonly Lazy<FuzzSettings> FromEnvironment = new(() => Read(Environment.GetEnvironmentVariable));

    /// <summary>The settings of this test process.</summary>
    public static FuzzSettings Current => FromEnvironment.Value;

    /// <summary>The settings from <paramref name="variable"/> (an environment lookup); a value that does not parse is an error.</summary>
    public static FuzzSettings Read(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var seedText = variable(SeedVariable);
        var seed = string.IsNullOrWhiteSpace(seedText) ? DefaultSeed
            : seedText.Trim().Equals("random", StringComparison.OrdinalIgnoreCase) ? Random.Shared.Next()
            : int.Parse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture);
        var scaleText = variable(ScaleVariable);
        var scale = string.IsNullOrWhiteSpace(scaleText) ? 1.0 : double.Parse(scaleText, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!(scale > 0) || double.IsInfinity(scale))
        {
            throw new ArgumentOutOfRangeException(ScaleVariable, scaleText, "a positive number");
        }

        var caseText = variable(CaseVariable);
        int? only = string.IsNullOrWhiteSpace(caseText) ? null : int.Parse(caseText, NumberStyles.None, CultureInfo.InvariantCulture);
        return new FuzzSettings(seed, scale, only);
    }

    /// <summary>How many cases a target runs: its CI count times <see cref="Scale"/>, at least one.</summary>
    public int Cases(int ciCases) => Math.Max(1, (int)Math.Ceiling(ciCases * Scale));

    /// <summary>The case indices a target runs.</summary>
    public IEnumerable<int> Indices(int ciCases) => OnlyCase is { } only ? [only] : Enumerable.Range(0, Cases(ciCases));

    /// <summary>
    /// The seed of one case of one target: a stable mix of the base seed, the target's name and the case index (not
    /// <see cref="string.GetHashCode()"/>, which differs between processes), so any case replays on its own.
    /// </summary>
    public int CaseSeed(string target, int index)
    {
        ArgumentNullException.ThrowIfNull(target);
        var hash = 14695981039346656037UL;
        foreach (var c in target)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        var x = hash ^ ((ulong)(uint)Seed << 32) ^ (uint)index;
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return (int)((x ^ (x >> 31)) & int.MaxValue);
    }
}
