using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Dragonfly.Common.Yaml;

/// <summary>
/// A YAML event parser that refuses nesting deeper than a limit: a <see cref="YamlException"/> at the sequence or mapping
/// that goes too deep, which the config loaders already report as a config error. YamlDotNet's representation model
/// (<see cref="YamlStream"/>) and its deserializer recurse once per level, so a config file of 100,000 <c>[</c> would
/// overflow the stack, which no <c>catch</c> stops: the program would die instead of naming its config. No config of these
/// programs nests more than a few levels.
/// </summary>
public sealed class DepthLimitedParser : IParser
{
    /// <summary>The deepest nesting accepted: far beyond any config, far short of the stack.</summary>
    public const int DefaultMaxDepth = 64;

    private readonly IParser _inner;
    private readonly int _maxDepth;
    private int _depth;

    public DepthLimitedParser(IParser inner, int maxDepth = DefaultMaxDepth)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDepth);
        _inner = inner;
        _maxDepth = maxDepth;
    }

    public ParsingEvent? Current => _inner.Current;

    /// <summary>A parser of <paramref name="text"/> with the default limit.</summary>
    public static DepthLimitedParser Of(string text) => new(new Parser(new StringReader(text)));

    /// <summary>Loads <paramref name="text"/> into a <see cref="YamlStream"/> through a depth-limited parser.</summary>
    /// <exception cref="YamlException">Invalid YAML, or nesting deeper than <see cref="DefaultMaxDepth"/>.</exception>
    public static YamlStream Load(string text)
    {
        var stream = new YamlStream();
        stream.Load(Of(text));
        return stream;
    }

    public bool MoveNext()
    {
        if (!_inner.MoveNext())
        {
            return false;
        }

        switch (_inner.Current)
        {
            case MappingStart or SequenceStart when ++_depth > _maxDepth:
                throw new YamlException(_inner.Current.Start, _inner.Current.End, $"nesting deeper than {_maxDepth} levels");
            case MappingEnd or SequenceEnd:
                _depth--;
                break;
        }

        return true;
    }
}
