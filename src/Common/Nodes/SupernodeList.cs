namespace Dragonfly.Common.Nodes;

/// <summary>
/// The supernode list of a client: <c>-n a:8002=2,b=1 -n c</c> (comma-separated or repeated). Weights are divided by their
/// greatest common divisor; <see cref="Expand"/> repeats each node by its weight and shuffles with an injected <see cref="Random"/>.
/// </summary>
public sealed class SupernodeList
{
    private SupernodeList(IReadOnlyList<SupernodeAddress> nodes) => Nodes = nodes;

    public IReadOnlyList<SupernodeAddress> Nodes { get; }

    public static SupernodeList Parse(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!TryParse(values, out var list, out var error))
        {
            throw new FormatException(error);
        }

        return list;
    }

    public static bool TryParse(IEnumerable<string> values, out SupernodeList list, out string? error)
    {
        ArgumentNullException.ThrowIfNull(values);
        list = new SupernodeList([]);
        error = null;
        var nodes = new List<SupernodeAddress>();
        foreach (var part in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!SupernodeAddress.TryParse(part, out var node, out error))
            {
                return false;
            }

            nodes.Add(node);
        }

        if (nodes.Count > 0)
        {
            var gcd = nodes.Select(n => n.Weight).Aggregate(Gcd);
            nodes = nodes.Select(n => n with { Weight = n.Weight / gcd }).ToList();
        }

        list = new SupernodeList(nodes);
        return true;
    }

    /// <summary>Each node repeated by its (reduced) weight, shuffled: the order in which a client tries them.</summary>
    public IReadOnlyList<SupernodeAddress> Expand(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var expanded = Nodes.SelectMany(n => Enumerable.Repeat(n, n.Weight)).ToArray();
        random.Shuffle(expanded);
        return expanded;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
