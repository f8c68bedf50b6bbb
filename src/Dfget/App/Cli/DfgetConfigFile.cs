using System.Globalization;
using Dragonfly.Common.Rates;
using Dragonfly.Common.Yaml;
using YamlDotNet.RepresentationModel;

namespace Dragonfly.Dfget.App.Cli;

/// <summary>Values from the dfget config file; null = not set there.</summary>
public sealed record DfgetConfig
{
    public static DfgetConfig Empty { get; } = new();

    /// <summary>The file the values came from (null = none).</summary>
    public string? Source { get; init; }

    public IReadOnlyList<string> Nodes { get; init; } = [];

    public Rate? LocalLimit { get; init; }

    public Rate? MinRate { get; init; }

    public Rate? TotalLimit { get; init; }

    public int? ClientQueueSize { get; init; }

    public string? WorkHome { get; init; }
}

/// <summary>
/// Loads the first config file that exists, like the original: <c>/etc/dragonfly/dfget.yml</c> (YAML: <c>nodes</c>,
/// <c>localLimit</c>, <c>minRate</c>, <c>totalLimit</c>, <c>clientQueueSize</c>, <c>workHome</c>), else
/// <c>/etc/dragonfly.conf</c> (INI: <c>[node] address=a,b</c>). Command-line flags override both.
/// </summary>
public static class DfgetConfigFile
{
    public const string DefaultYamlPath = "/etc/dragonfly/dfget.yml";
    public const string DefaultIniPath = "/etc/dragonfly.conf";

    /// <exception cref="FormatException">The file exists but is not valid; the message names the file and the key.</exception>
    public static DfgetConfig Load(string yamlPath, string iniPath)
    {
        if (File.Exists(yamlPath))
        {
            return LoadYaml(yamlPath, File.ReadAllText(yamlPath));
        }

        if (File.Exists(iniPath))
        {
            return LoadIni(iniPath, File.ReadAllLines(iniPath));
        }

        return DfgetConfig.Empty;
    }

    public static DfgetConfig LoadYaml(string source, string text)
    {
        YamlStream stream;
        try
        {
            stream = DepthLimitedParser.Load(text);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new FormatException($"invalid config {source}: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner throws this, not a YamlException, on some malformed plain scalars.
            throw new FormatException($"invalid config {source}: invalid YAML: {e.Message}", e);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return DfgetConfig.Empty with { Source = source };
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new FormatException($"invalid config {source}: the document must be a mapping");
        }

        var config = new DfgetConfig { Source = source };
        foreach (var (keyNode, valueNode) in root.Children)
        {
            if (keyNode is not YamlScalarNode { Value: var key })
            {
                // "? [a, b]\n: c" is valid YAML, but no key of this file is a list or a mapping.
                throw new FormatException($"invalid config {source}: line {keyNode.Start.Line}: a key must be a plain name");
            }

            switch (key)
            {
                case "nodes":
                    config = config with { Nodes = ReadList(source, key, valueNode) };
                    break;
                case "localLimit":
                    config = config with { LocalLimit = ReadRate(source, key, valueNode) };
                    break;
                case "minRate":
                    config = config with { MinRate = ReadRate(source, key, valueNode) };
                    break;
                case "totalLimit":
                    config = config with { TotalLimit = ReadRate(source, key, valueNode) };
                    break;
                case "clientQueueSize":
                    var scalar = Scalar(source, key, valueNode);
                    if (!int.TryParse(scalar, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size <= 0)
                    {
                        throw new FormatException($"invalid config {source}: clientQueueSize '{scalar}' is not a positive integer");
                    }

                    config = config with { ClientQueueSize = size };
                    break;
                case "workHome":
                    config = config with { WorkHome = Scalar(source, key, valueNode) };
                    break;
                default:
                    // Other keys of the original (logConfig, ...) are accepted and ignored.
                    break;
            }
        }

        return config;
    }

    public static DfgetConfig LoadIni(string source, IEnumerable<string> lines)
    {
        var section = string.Empty;
        var nodes = new List<string>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[' && line[^1] == ']')
            {
                section = line[1..^1].Trim();
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException($"invalid config {source}: line '{line}' is not key=value");
            }

            if (section == "node" && line[..eq].Trim() == "address")
            {
                nodes.AddRange(line[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
        }

        return new DfgetConfig { Source = source, Nodes = nodes };
    }

    private static List<string> ReadList(string source, string key, YamlNode node) => node switch
    {
        YamlSequenceNode seq => seq.Children.Select(c => Scalar(source, key, c)).ToList(),
        YamlScalarNode s when !string.IsNullOrEmpty(s.Value) => s.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
        _ => throw new FormatException($"invalid config {source}: {key} must be a list"),
    };

    private static Rate ReadRate(string source, string key, YamlNode node)
    {
        var text = Scalar(source, key, node);
        return Rate.TryParse(text, out var rate)
            ? rate
            : throw new FormatException($"invalid config {source}: {key} '{text}' is not a rate (e.g. 20M, 512K)");
    }

    private static string Scalar(string source, string key, YamlNode node) =>
        node is YamlScalarNode { Value: { } value }
            ? value
            : throw new FormatException($"invalid config {source}: {key} must be a single value");
}
